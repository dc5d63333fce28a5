package accesslog

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/store"
)

// Limits of queries over the stored figures.
const (
	// MaxRange is the longest range a Series covers.
	MaxRange = 31 * 24 * time.Hour
	// MaxPoints is the most points a Series has.
	MaxPoints = 1500
	// DefaultPoints is about how many points a range gets without a step.
	DefaultPoints = 60
	// MaxLatest is the most latest requests one query returns.
	MaxLatest = 1000
	// DefaultLatest is how many latest requests a query returns by default.
	DefaultLatest = 100
)

// AutoStep returns a step (whole minutes) giving about DefaultPoints
// points over d.
func AutoStep(d time.Duration) time.Duration {
	step := (d / DefaultPoints).Truncate(time.Minute)
	return max(step, time.Minute)
}

// CheckStep reports what is wrong with a step over [from, to): it must be a
// whole number of minutes and give at most MaxPoints points.
func CheckStep(step time.Duration, from, to time.Time) error {
	if step < time.Minute || step%time.Minute != 0 {
		return errors.New("must be a whole number of minutes, at least 1m")
	}
	if to.Sub(from)/step > MaxPoints {
		return fmt.Errorf("gives more than %d points over the range", MaxPoints)
	}
	return nil
}

// AlignRange widens [from, to) to whole minutes, the stored resolution.
func AlignRange(from, to time.Time) (time.Time, time.Time) {
	from = from.UTC().Truncate(time.Minute)
	if t := to.UTC().Truncate(time.Minute); t.Before(to) {
		to = t.Add(time.Minute)
	} else {
		to = t
	}
	return from, to
}

// ParseStatus reads a status filter: a class ("5xx") or a code ("404").
func ParseStatus(s string) (code, class int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	if len(s) == 3 && strings.HasSuffix(strings.ToLower(s), "xx") && s[0] >= '1' && s[0] <= '5' {
		return 0, int(s[0] - '0'), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, fmt.Errorf("%q is neither a status class (1xx to 5xx) nor a status code (100 to 599)", s)
	}
	return n, 0, nil
}

var methodPattern = regexp.MustCompile(`^[A-Z]{1,16}$`)

// LatestFilter checks the filters of a latest-requests query and returns
// them as a store.RequestFilter; a *FieldError names the bad one. limit 0
// means DefaultLatest.
func LatestFilter(status, method, host, path string, limit int) (store.RequestFilter, error) {
	f := store.RequestFilter{Method: strings.ToUpper(method), Host: strings.ToLower(host), PathPrefix: path, Limit: limit}
	var err error
	if f.Status, f.Class, err = ParseStatus(status); err != nil {
		return f, &FieldError{Field: "status", Message: err.Error()}
	}
	if f.Method != "" && !methodPattern.MatchString(f.Method) {
		return f, &FieldError{Field: "method", Message: fmt.Sprintf("%q is not an HTTP method", method)}
	}
	if len(f.Host) > 253 || strings.ContainsAny(f.Host, " /\t\r\n") {
		return f, &FieldError{Field: "host", Message: fmt.Sprintf("%q is not a host name", host)}
	}
	if f.PathPrefix != "" && (!strings.HasPrefix(f.PathPrefix, "/") || len(f.PathPrefix) > maxPath) {
		return f, &FieldError{Field: "path", Message: fmt.Sprintf("must start with / and have at most %d characters", maxPath)}
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLatest
	case f.Limit < 1 || f.Limit > MaxLatest:
		return f, &FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", MaxLatest)}
	}
	return f, nil
}

// FieldError names the query parameter that is wrong.
type FieldError struct {
	// Field is the parameter's name.
	Field string
	// Message says what is wrong with it.
	Message string
}

// Error returns "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }
