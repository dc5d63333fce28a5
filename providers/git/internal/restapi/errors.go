package restapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/berth-dev/berth/sdk"
)

// maxMessage bounds the provider message kept in an Error, in characters.
const maxMessage = 300

// Error is a non-2xx answer from a git host's API. It wraps the sdk error
// matching the status (errors.Is works):
//
//	401                               sdk.ErrUnauthenticated ("token rejected")
//	403, 429 with rate limiting       sdk.ErrUnavailable ("rate limit exceeded", with the reset time)
//	403                               sdk.ErrUnauthenticated ("permission denied")
//	404, 410                          sdk.ErrNotFound
//	400, 409, 422                     sdk.ErrInvalidArgument
//	5xx                               sdk.ErrUnavailable
type Error struct {
	// Provider names the host ("github").
	Provider string
	// Method and Path name the request (the path without its query).
	Method, Path string
	// Status is the HTTP status code.
	Status int
	// Message is the provider's message, on one line and shortened.
	Message string
	// RateLimited is true when the answer says a rate limit was hit.
	RateLimited bool
	// Reset is when the rate limit resets (zero when unknown).
	Reset time.Time
	// credential names the credentials in a 401 message.
	credential string
	kind       error
}

// Error says what went wrong, with the provider's message:
// "gitlab: token rejected (401): GET /api/v4/projects: 401 Unauthorized".
func (e *Error) Error() string {
	var what string
	switch {
	case e.RateLimited:
		what = fmt.Sprintf("rate limit exceeded (%d)", e.Status)
		if !e.Reset.IsZero() {
			what += ", resets at " + e.Reset.UTC().Format(time.RFC3339)
		}
	case e.Status == http.StatusUnauthorized:
		what = e.credential + " rejected (401)"
	case e.Status == http.StatusForbidden:
		what = "permission denied (403)"
	case e.Status == http.StatusNotFound:
		what = "not found (404)"
	case e.Status >= 500:
		what = fmt.Sprintf("server error (%d %s)", e.Status, http.StatusText(e.Status))
	case e.Status >= 300 && e.Status < 400:
		what = fmt.Sprintf("unexpected redirect (%d %s)", e.Status, http.StatusText(e.Status))
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
func (c *Client) newError(method, path string, resp *http.Response, data []byte) *Error {
	e := &Error{Provider: c.Provider, Method: method, Path: path, Status: resp.StatusCode, Message: providerMessage(data), credential: c.CredentialName}
	if e.credential == "" {
		e.credential = "token"
	}
	e.RateLimited, e.Reset = rateLimit(resp, time.Now())
	switch s := e.Status; {
	case e.RateLimited:
		e.kind = sdk.ErrUnavailable
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		e.kind = sdk.ErrUnauthenticated
	case s == http.StatusNotFound, s == http.StatusGone:
		e.kind = sdk.ErrNotFound
	case s == http.StatusBadRequest, s == http.StatusConflict, s == http.StatusUnprocessableEntity:
		e.kind = sdk.ErrInvalidArgument
	case s >= 500:
		e.kind = sdk.ErrUnavailable
	case s >= 300 && s < 400:
		if loc := resp.Header.Get("Location"); loc != "" && e.Message == "" {
			e.Message = "to " + redact(loc)
		}
	}
	return e
}

// rateLimit reports whether resp is a rate-limit refusal and when the limit
// resets. Any 429 is one; a 403 is one with no remaining quota
// (RateLimit-Remaining or X-RateLimit-Remaining: 0) or with Retry-After
// (GitHub's secondary limits). The reset time is Retry-After (seconds or an
// HTTP date), else RateLimit-Reset or X-RateLimit-Reset (epoch seconds).
func rateLimit(resp *http.Response, now time.Time) (bool, time.Time) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return false, time.Time{}
	}
	h := resp.Header
	exhausted := strings.TrimSpace(h.Get("RateLimit-Remaining")) == "0" || strings.TrimSpace(h.Get("X-RateLimit-Remaining")) == "0"
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
	for _, name := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		if epoch, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64); err == nil && epoch > 0 {
			return true, time.Unix(epoch, 0)
		}
	}
	return true, time.Time{}
}

// providerMessage extracts the explanation of an error answer, in the
// shapes the hosts use: {"message": "..."} with GitHub's "errors" details,
// {"message": {...}} (GitLab), {"error": "...", "error_description": "..."}
// and {"type": "error", "error": {"message": "...", "detail": "..."}}
// (Bitbucket). Other text is used as is, an HTML page not at all. The
// message is put on one line and cut to maxMessage characters.
func providerMessage(data []byte) string {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return ""
	}
	var doc struct {
		Message          json.RawMessage `json:"message"`
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Errors           []any           `json:"errors"`
	}
	var msg string
	if err := json.Unmarshal(data, &doc); err != nil {
		if data[0] != '<' {
			msg = string(data) // plain text; an HTML error page says nothing useful
		}
	} else {
		var parts []string
		for _, raw := range []json.RawMessage{doc.Message, doc.Error} {
			parts = append(parts, rawMessage(raw)...)
		}
		if doc.ErrorDescription != "" {
			parts = append(parts, doc.ErrorDescription)
		}
		msg = strings.Join(parts, ": ")
		if details := errorDetails(doc.Errors); msg != "" && len(details) > 0 {
			msg += " (" + strings.Join(details, "; ") + ")"
		}
	}
	msg = strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	return Truncate(msg, maxMessage)
}

// rawMessage reads a "message" or "error" field: a string, an object with
// a message and a detail, or any other JSON (compacted).
func rawMessage(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var nested struct {
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(raw, &nested) == nil && nested.Message != "" {
		return append([]string{nested.Message}, rawMessage(nested.Detail)...)
	}
	return []string{compactJSON(raw)}
}

// errorDetails reads GitHub's "errors" list: strings, or objects with a
// message or a field and a code.
func errorDetails(errs []any) []string {
	var details []string
	for _, e := range errs {
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
	return details
}

// compactJSON is raw without insignificant spaces.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Truncate shortens s to at most n characters (runes), ending a shortened
// text with "…", for provider fields with a length limit.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return string(r[:n])
	}
	return string(r[:n-1]) + "…"
}
