// Package httpsend is the HTTP plumbing berth's notifiers share: it sends a
// request, reads the answer with a size limit and maps the status to the
// SDK's errors.
//
// This is a placeholder written against the API agreed for issue 16; it is
// replaced by the package of branch wip/notify-a.
package httpsend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/berth-dev/berth/sdk"
)

// maxBody is the most of a response body read.
const maxBody = 64 << 10

// maxErrorText is the most of a service's error text kept in an error.
const maxErrorText = 300

// Client sends notifier requests.
type Client struct {
	// HTTP is the client used; nil means http.DefaultClient.
	HTTP *http.Client
	// UserAgent is sent with every request.
	UserAgent string
}

// RetryAfterError carries a service's Retry-After delay.
type RetryAfterError struct {
	// After is how long the service asked to wait.
	After time.Duration
}

// Error describes the delay.
func (e *RetryAfterError) Error() string { return "retry after " + e.After.String() }

// Do sends req and returns the response with its body (read up to a limit).
// The error wraps sdk.ErrUnavailable for 429, 5xx and network errors,
// sdk.ErrUnauthenticated for 401/403, sdk.ErrNotFound for 404 and
// sdk.ErrInvalidArgument for other 4xx. Error texts never hold the URL.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	req = req.WithContext(ctx)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	host := req.URL.Host
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("sending to %s: %w", host, ctx.Err())
		}
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap()
		}
		return nil, nil, fmt.Errorf("sending to %s: %w: %w", host, sdk.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if rerr != nil && ctx.Err() != nil {
		return resp, body, fmt.Errorf("reading the answer of %s: %w", host, ctx.Err())
	}
	code := resp.StatusCode
	text := Truncate(strings.TrimSpace(string(body)), maxErrorText)
	switch {
	case code >= 200 && code < 300:
		return resp, body, nil
	case code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("%s answered %s: %s: %w", host, resp.Status, text, sdk.ErrUnavailable)
		if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			err = fmt.Errorf("%w (%w)", err, &RetryAfterError{After: d})
		}
		return resp, body, err
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return resp, body, fmt.Errorf("%s answered %s: %s: %w", host, resp.Status, text, sdk.ErrUnauthenticated)
	case code == http.StatusNotFound:
		return resp, body, fmt.Errorf("%s answered %s: %s: %w", host, resp.Status, text, sdk.ErrNotFound)
	default:
		return resp, body, fmt.Errorf("%s answered %s: %s: %w", host, resp.Status, text, sdk.ErrInvalidArgument)
	}
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// Truncate shortens s to at most n runes, ending it with an ellipsis when
// it was cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
