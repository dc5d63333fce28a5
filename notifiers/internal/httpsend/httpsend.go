// Package httpsend is the HTTP plumbing berth's notifier plugins share: it
// sends a request, reads the answer with a size limit and maps the status to
// the sdk's errors (retriable or permanent), keeping secrets out of error
// texts. Webhook URLs of chat services carry their secret in the path and
// bot APIs carry tokens there, so an error never names more of the request
// than its method and scheme://host, and the service's answer is scrubbed of
// the URL's path segments, query values and the Authorization header.
package httpsend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/berth-dev/berth/sdk"
)

// MaxResponseBytes bounds how much of a response body Do reads.
const MaxResponseBytes = 1 << 20

// maxErrorText bounds, in runes, the service's error text kept in an error.
const maxErrorText = 300

// Client sends notifier requests.
type Client struct {
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// UserAgent, when set, is sent as the User-Agent header.
	UserAgent string
}

// RetryAfterError carries the delay a service asked for (Retry-After) on a
// 429 or 5xx answer. The error Do returns wraps it next to
// sdk.ErrUnavailable; reach it with errors.As.
type RetryAfterError struct {
	After time.Duration
}

// Error says how long the service asked to wait.
func (e *RetryAfterError) Error() string { return "retry after " + e.After.String() }

// Do sends req with ctx and returns the response (body already read and
// closed) and up to MaxResponseBytes of its body. A 2xx answer returns a nil
// error. Otherwise the error wraps ctx.Err() when ctx ended, sdk.ErrUnavailable
// for network errors, 429 and 5xx (with a *RetryAfterError when the answer
// has a Retry-After header), sdk.ErrUnauthenticated for 401 and 403,
// sdk.ErrNotFound for 404 and sdk.ErrInvalidArgument for other answers,
// with the service's error text, truncated and scrubbed of secrets.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	req = req.WithContext(ctx)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	target := describe(req)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", target, ctx.Err())
		}
		// *url.Error repeats the whole URL, secret path included: keep
		// only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("%s: %w: %s", target, sdk.ErrUnavailable, scrub(err.Error(), req))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		if ctx.Err() != nil {
			return resp, body, fmt.Errorf("%s: reading the answer: %w", target, ctx.Err())
		}
		return resp, body, fmt.Errorf("%s: reading the answer: %w: %s", target, sdk.ErrUnavailable, scrub(err.Error(), req))
	}
	return resp, body, StatusError(req, resp, body)
}

// StatusError maps a response to the error Do returns for it: nil for 2xx.
// Plugins whose service reports failures inside a 2xx answer, or a retry
// delay in the body, build on it.
func StatusError(req *http.Request, resp *http.Response, body []byte) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s answered %d %s", describe(req), code, http.StatusText(code))
	if text := ErrorText(req, body); text != "" {
		msg += ": " + text
	}
	switch {
	case code == http.StatusTooManyRequests || code >= 500:
		if after, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return fmt.Errorf("%s: %w (%w)", msg, sdk.ErrUnavailable, &RetryAfterError{After: after})
		}
		return fmt.Errorf("%s: %w", msg, sdk.ErrUnavailable)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: %w", msg, sdk.ErrUnauthenticated)
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: %w", msg, sdk.ErrNotFound)
	default:
		return fmt.Errorf("%s: %w", msg, sdk.ErrInvalidArgument)
	}
}

// ErrorText returns a service's answer fit for an error message: one line,
// printable, at most a few hundred runes, without the request URL's path
// segments, query values or Authorization header.
func ErrorText(req *http.Request, body []byte) string {
	s := strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, string(body))
	s = strings.Join(strings.Fields(scrub(s, req)), " ")
	return Truncate(s, maxErrorText)
}

// describe names a request without its secret parts: method and
// scheme://host.
func describe(req *http.Request) string {
	if req.URL == nil {
		return req.Method
	}
	return req.Method + " " + req.URL.Scheme + "://" + req.URL.Host
}

// scrub replaces every secret part of req found in s: the URL (escaped or
// not), its path segments, query values and user info, and the
// Authorization header's value and credentials.
func scrub(s string, req *http.Request) string {
	var secrets []string
	if u := req.URL; u != nil {
		secrets = append(secrets, u.String(), u.EscapedPath(), u.Path, u.RawQuery)
		for _, seg := range strings.Split(u.Path, "/") {
			secrets = append(secrets, seg)
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			secrets = append(secrets, seg)
		}
		for _, vs := range u.Query() {
			secrets = append(secrets, vs...)
		}
		if u.User != nil {
			secrets = append(secrets, u.User.String())
			if p, ok := u.User.Password(); ok {
				secrets = append(secrets, p)
			}
		}
	}
	if a := req.Header.Get("Authorization"); a != "" {
		secrets = append(secrets, a)
		if _, cred, ok := strings.Cut(a, " "); ok {
			secrets = append(secrets, cred)
		}
	}
	for _, sec := range secrets {
		// Short segments ("api", "v1", "hooks") are not secrets and
		// would mangle the text.
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// ParseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date
// (relative to now), and reports whether it held one. Dates in the past give
// 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e9 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// PostJSON POSTs v as JSON (Content-Type application/json) to rawURL with
// the extra headers and returns Do's results.
func (c *Client) PostJSON(ctx context.Context, rawURL string, v any, header http.Header) (*http.Response, []byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the request: %w", err)
	}
	return c.PostBody(ctx, rawURL, "application/json", body, header)
}

// PostBody POSTs body with the content type to rawURL with the extra
// headers and returns Do's results. Errors never repeat rawURL.
func (c *Client) PostBody(ctx context.Context, rawURL, contentType string, body []byte, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		// The parse error quotes the URL: do not repeat it.
		return nil, nil, fmt.Errorf("building the request: invalid URL: %w", sdk.ErrInvalidArgument)
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	req.Header.Set("Content-Type", contentType)
	return c.Do(ctx, req)
}

// Ellipsis ends truncated texts.
const Ellipsis = "…"

// Truncate returns s cut to at most limit runes, ending with Ellipsis when
// it was cut.
func Truncate(s string, limit int) string {
	if limit <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit-1 {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s
}

// RuneLen returns the number of runes in s, the unit services count their
// limits in.
func RuneLen(s string) int { return utf8.RuneCountInString(s) }

// CheckURL reports why rawURL cannot be a notifier's target: it must be an
// absolute http or https URL with a host. The message never repeats the URL.
func CheckURL(rawURL string) string {
	if rawURL == "" {
		return "is required"
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http or https URL"
	}
	return ""
}

// TruncateEscaped returns escape(s'), where s' is s cut (with Ellipsis) so
// that the escaped text holds at most limit runes: for services that count
// their limits on the escaped text and whose escapes (&amp;) must not be
// cut in half.
func TruncateEscaped(s string, limit int, escape func(string) string) string {
	if out := escape(s); RuneLen(out) <= limit {
		return out
	}
	// The longest cut whose escaped text fits: binary search, as escaping
	// lengthens texts unevenly.
	// The whole text does not fit: cut it (keep < its length).
	lo, hi := 0, min(limit, RuneLen(s)-1) // fits(lo) holds (empty text)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if RuneLen(escape(Truncate(s, mid))) <= limit {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0 && RuneLen(escape(Ellipsis)) <= limit {
		return escape(Ellipsis)
	}
	return escape(Truncate(s, lo))
}

// redacted is an error whose text has secrets replaced; it unwraps to the
// original so errors.Is and errors.As still see sdk errors and
// *RetryAfterError.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// Redact returns err with every non-empty secret replaced by "[redacted]"
// in its text, keeping its chain for errors.Is and errors.As. Use it for
// secrets Do cannot know, such as a token inside a path segment or body.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return &redacted{msg: msg, err: err}
}
