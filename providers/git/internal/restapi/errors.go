package restapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/berth-dev/berth/sdk"
)

// maxMessage bounds the provider message kept in an Error.
const maxMessage = 300

// Error is a non-2xx answer from a git host's API. It wraps the sdk error
// matching the status (errors.Is works):
//
//	401                               sdk.ErrUnauthenticated ("token rejected")
//	403, 429 with rate-limit headers  sdk.ErrUnavailable ("rate limit exceeded", with the reset time)
//	403                               sdk.ErrUnauthenticated ("permission denied")
//	404                               sdk.ErrNotFound
//	400, 409, 422                     sdk.ErrInvalidArgument
//	5xx                               sdk.ErrUnavailable
type Error struct {
	// Provider names the host ("github").
	Provider string
	// Method and Path name the request.
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Message is the provider's message, trimmed and shortened.
	Message string
	// RateLimited is true when the answer says a rate limit was hit.
	RateLimited bool
	// Reset is when the rate limit resets (zero when unknown).
	Reset time.Time
	kind  error
}

// Error says what went wrong, with the provider's message.
func (e *Error) Error() string {
	var what string
	switch {
	case e.RateLimited:
		what = fmt.Sprintf("rate limit exceeded (%d)", e.Status)
		if !e.Reset.IsZero() {
			what += ", resets at " + e.Reset.UTC().Format(time.RFC3339)
		}
	case e.Status == http.StatusUnauthorized:
		what = "token rejected (401)"
	case e.Status == http.StatusForbidden:
		what = "permission denied (403)"
	case e.Status == http.StatusNotFound:
		what = "not found (404)"
	case e.Status >= 500:
		what = fmt.Sprintf("server error (%d %s)", e.Status, http.StatusText(e.Status))
	default:
		what = fmt.Sprintf("request refused (%d %s)", e.Status, http.StatusText(e.Status))
	}
	msg := fmt.Sprintf("%s: %s: %s %s", e.Provider, what, e.Method, e.Path)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns the sdk error kind, or nil.
func (e *Error) Unwrap() error { return e.kind }

// newError builds the Error for a non-2xx answer with body data.
func newError(provider, method, path string, resp *http.Response, data []byte) *Error {
	e := &Error{Provider: provider, Method: method, Path: path, Status: resp.StatusCode, Message: providerMessage(data)}
	e.RateLimited, e.Reset = rateLimit(resp, time.Now())
	switch {
	case e.RateLimited:
		e.kind = sdk.ErrUnavailable
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		e.kind = sdk.ErrUnauthenticated
	case e.Status == http.StatusNotFound, e.Status == http.StatusGone:
		e.kind = sdk.ErrNotFound
	case e.Status == http.StatusBadRequest, e.Status == http.StatusConflict, e.Status == http.StatusUnprocessableEntity:
		e.kind = sdk.ErrInvalidArgument
	case e.Status >= 500:
		e.kind = sdk.ErrUnavailable
	}
	return e
}

// rateLimit reports whether resp is a rate-limit refusal and when the limit
// resets. GitHub documents 403 or 429 with x-ratelimit-remaining: 0 and
// x-ratelimit-reset (epoch seconds) for the primary limit, and retry-after
// (seconds) for secondary limits; any 429 is a rate limit.
func rateLimit(resp *http.Response, now time.Time) (bool, time.Time) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return false, time.Time{}
	}
	h := resp.Header
	exhausted := strings.TrimSpace(h.Get("X-RateLimit-Remaining")) == "0"
	retryAfter := strings.TrimSpace(h.Get("Retry-After"))
	if !exhausted && retryAfter == "" && resp.StatusCode != http.StatusTooManyRequests {
		return false, time.Time{}
	}
	if secs, err := strconv.ParseInt(retryAfter, 10, 64); err == nil && secs >= 0 {
		return true, now.Add(time.Duration(secs) * time.Second).Truncate(time.Second)
	}
	if t, err := http.ParseTime(retryAfter); err == nil {
		return true, t
	}
	if epoch, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil && epoch > 0 {
		return true, time.Unix(epoch, 0)
	}
	return true, time.Time{}
}

// providerMessage extracts the message of an error answer: the "message"
// field GitHub and Gitea use, with GitHub's "errors" details, or else the
// start of the body as text.
func providerMessage(data []byte) string {
	var body struct {
		Message string `json:"message"`
		Errors  []any  `json:"errors"`
	}
	msg := ""
	if err := json.Unmarshal(data, &body); err == nil && body.Message != "" {
		msg = body.Message
		var details []string
		for _, e := range body.Errors {
			switch v := e.(type) {
			case string:
				details = append(details, v)
			case map[string]any:
				if m, ok := v["message"].(string); ok && m != "" {
					details = append(details, m)
				} else if code, ok := v["code"].(string); ok {
					field, _ := v["field"].(string)
					details = append(details, strings.TrimSpace(field+" "+code))
				}
			}
		}
		if len(details) > 0 {
			msg += " (" + strings.Join(details, "; ") + ")"
		}
	} else if t := strings.TrimSpace(string(data)); !strings.HasPrefix(t, "<") {
		msg = t // plain text; an HTML error page says nothing useful
	}
	msg = strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage-1]) + "…"
	}
	return msg
}
