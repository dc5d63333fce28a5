// Package restapi is the JSON REST client shared by berth's gitlab and
// bitbucket git provider plugins: every call has a timeout, carries the
// connection's credentials only to the configured API origin (redirects and
// pagination links elsewhere are refused), reads bounded responses, and maps
// HTTP failures to the sdk's error kinds with the provider's own message:
//
//	401                        -> sdk.ErrUnauthenticated ("gitlab: token rejected (401 Unauthorized): ...")
//	403                        -> sdk.ErrUnauthenticated (a missing scope or permission)
//	403/429 with rate limiting -> sdk.ErrUnavailable, with the reset time
//	404                        -> sdk.ErrNotFound
//	400, 422                   -> sdk.ErrInvalidArgument
//	5xx, network errors        -> sdk.ErrUnavailable
package restapi

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

	"github.com/berth-dev/berth/sdk"
)

// DefaultTimeout bounds a call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxBody bounds the size of a response body that is read.
const maxBody = 16 << 20

// transport is shared by every client so that connections are reused
// across calls (a Client is made per call, with that call's credentials).
var transport = http.DefaultTransport.(*http.Transport).Clone()

// Config configures a Client.
type Config struct {
	// Provider names the service in error messages: "gitlab".
	Provider string
	// BaseURL is the API root every path is relative to, an absolute
	// http or https URL: "https://gitlab.com/api/v4".
	BaseURL string
	// Timeout bounds each call, connection and body included
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// Authorize sets the authentication header of each request; nil sends
	// requests anonymously.
	Authorize func(http.Header)
	// CredentialName names the credentials in 401 messages ("token");
	// "credentials" when empty.
	CredentialName string
	// UserAgent is sent with each request.
	UserAgent string
}

// Client calls one provider's REST API with one set of credentials.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
}

// New returns a Client for cfg. A BaseURL that is not an absolute http(s)
// URL is an error wrapping sdk.ErrInvalidArgument.
func New(cfg Config) (*Client, error) {
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.CredentialName == "" {
		cfg.CredentialName = "credentials"
	}
	c := &Client{cfg: cfg, base: base}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("stopped after 5 redirects")
			}
			if !sameOrigin(req.URL, c.base) {
				return fmt.Errorf("refusing to follow a redirect to %s: credentials go to %s only", req.URL.Redacted(), origin(c.base))
			}
			return nil
		},
	}
	return c, nil
}

// ParseBaseURL validates an API or web root: an absolute http or https URL
// without credentials, query or fragment. The trailing slash is dropped.
// Errors wrap sdk.ErrInvalidArgument.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return nil, fmt.Errorf("base URL %q: %v: %w", raw, err, sdk.ErrInvalidArgument)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("base URL %q: must be an http or https URL: %w", raw, sdk.ErrInvalidArgument)
	case u.Host == "":
		return nil, fmt.Errorf("base URL %q: has no host: %w", raw, sdk.ErrInvalidArgument)
	case u.User != nil:
		return nil, fmt.Errorf("base URL %q: must not contain credentials: %w", u.Redacted(), sdk.ErrInvalidArgument)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("base URL %q: must not have a query or fragment: %w", raw, sdk.ErrInvalidArgument)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// Base returns a copy of the API root.
func (c *Client) Base() *url.URL {
	u := *c.base
	return &u
}

// Get calls GET path?query and decodes the JSON answer into out (unless out
// is nil). path is relative to the API root and already escaped, for
// example "/projects/group%2Fapp/repository/branches". It returns the
// response headers, for pagination.
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) (http.Header, error) {
	u, err := c.resolvePath(path, query)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, http.MethodGet, u, nil, out)
}

// GetURL calls GET on an absolute URL the API returned, such as a
// pagination link. The URL must be under the API root: credentials are
// never sent elsewhere (an error wrapping sdk.ErrInvalidArgument).
func (c *Client) GetURL(ctx context.Context, rawURL string, out any) (http.Header, error) {
	u, err := c.CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, http.MethodGet, u, nil, out)
}

// Post calls POST path with body encoded as JSON and decodes the JSON
// answer into out (unless out is nil).
func (c *Client) Post(ctx context.Context, path string, body, out any) (http.Header, error) {
	u, err := c.resolvePath(path, nil)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the request: %w", c.cfg.Provider, err)
	}
	return c.do(ctx, http.MethodPost, u, b, out)
}

// CheckURL parses an absolute URL and checks that it lies under the API
// root (same scheme, host and port, and path prefix).
func (c *Client) CheckURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("%s: %q is not an absolute URL: %w", c.cfg.Provider, rawURL, sdk.ErrInvalidArgument)
	}
	basePath := c.base.EscapedPath()
	p := u.EscapedPath()
	if !sameOrigin(u, c.base) || u.User != nil || (p != basePath && !strings.HasPrefix(p, basePath+"/")) {
		return nil, fmt.Errorf("%s: refusing %s: not under the API root %s: %w", c.cfg.Provider, u.Redacted(), c.base, sdk.ErrInvalidArgument)
	}
	return u, nil
}

// resolvePath joins an escaped path and a query to the API root.
func (c *Client) resolvePath(path string, query url.Values) (*url.URL, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u, err := url.Parse(c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + path)
	if err != nil {
		return nil, fmt.Errorf("%s: bad request path %q: %w", c.cfg.Provider, path, sdk.ErrInvalidArgument)
	}
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u, nil
}

// do sends one request and maps its outcome.
func (c *Client) do(ctx context.Context, method string, u *url.URL, body []byte, out any) (http.Header, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", c.cfg.Provider, method, u.Redacted(), err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if c.cfg.Authorize != nil {
		c.cfg.Authorize(req.Header)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.cfg.Provider, method, u.Redacted(), ctxErr)
		}
		return nil, fmt.Errorf("%s: %s %s: %w: %w", c.cfg.Provider, method, u.Redacted(), err, sdk.ErrUnavailable)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.cfg.Provider, method, u.Redacted(), ctxErr)
		}
		return nil, fmt.Errorf("%s: %s %s: reading the answer: %w: %w", c.cfg.Provider, method, u.Redacted(), err, sdk.ErrUnavailable)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, c.statusError(resp, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s: %s %s: the answer is not the JSON expected: %w", c.cfg.Provider, method, u.Redacted(), err)
		}
	}
	return resp.Header, nil
}

// Error is a failed API call: a status other than 2xx.
type Error struct {
	// Provider is the service's name, "gitlab".
	Provider string
	// Status is the HTTP status code.
	Status int
	// Message is the provider's explanation, from the answer's body.
	Message string
	// RateLimited is true when the provider refused the call for rate
	// limiting; ResetAt then says when to try again, if it said so.
	RateLimited bool
	ResetAt     time.Time
	summary     string
	kind        error
}

// Error reads like "gitlab: token rejected (401 Unauthorized): invalid token".
func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s (%d %s)", e.Provider, e.summary, e.Status, http.StatusText(e.Status))
	if e.RateLimited && !e.ResetAt.IsZero() {
		s += ", resets at " + e.ResetAt.UTC().Format(time.RFC3339)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns the sdk error kind the status maps to, if any.
func (e *Error) Unwrap() error { return e.kind }

// statusError maps a non-2xx answer to an *Error.
func (c *Client) statusError(resp *http.Response, body []byte) error {
	e := &Error{Provider: c.cfg.Provider, Status: resp.StatusCode, Message: providerMessage(body)}
	if resetAt, limited := rateLimit(resp, time.Now()); limited {
		e.RateLimited, e.ResetAt = true, resetAt
		e.summary, e.kind = "rate limit exceeded, try again later", sdk.ErrUnavailable
		return e
	}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized:
		e.summary, e.kind = c.cfg.CredentialName+" rejected", sdk.ErrUnauthenticated
	case s == http.StatusForbidden:
		e.summary, e.kind = "access denied (the credentials lack a permission or scope)", sdk.ErrUnauthenticated
	case s == http.StatusNotFound:
		e.summary, e.kind = "not found (or not visible with these credentials)", sdk.ErrNotFound
	case s == http.StatusBadRequest || s == http.StatusUnprocessableEntity:
		e.summary, e.kind = "request refused", sdk.ErrInvalidArgument
	case s >= 500:
		e.summary, e.kind = "server error", sdk.ErrUnavailable
	case s >= 300 && s < 400:
		e.summary = "unexpected redirect"
		if loc := resp.Header.Get("Location"); loc != "" && e.Message == "" {
			e.Message = "to " + loc
		}
	default:
		e.summary = "unexpected answer"
	}
	return e
}

// rateLimit reports whether an answer is a rate-limit refusal (429, or 403
// with no remaining quota) and, when the headers say, when it resets:
// RateLimit-Reset / X-RateLimit-Reset (Unix time) or Retry-After (seconds
// or an HTTP date).
func rateLimit(resp *http.Response, now time.Time) (time.Time, bool) {
	h := resp.Header
	exhausted := h.Get("RateLimit-Remaining") == "0" || h.Get("X-RateLimit-Remaining") == "0"
	if resp.StatusCode != http.StatusTooManyRequests && (resp.StatusCode != http.StatusForbidden || !exhausted) {
		return time.Time{}, false
	}
	for _, name := range []string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		if n, err := strconv.ParseInt(h.Get(name), 10, 64); err == nil && n > 0 {
			return time.Unix(n, 0), true
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return now.Add(time.Duration(n) * time.Second).Truncate(time.Second), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return t, true
		}
	}
	return time.Time{}, true
}

// providerMessage extracts the explanation from an error body, in the
// shapes GitLab and Bitbucket use: {"message": "..."}, {"message": {...}},
// {"error": "...", "error_description": "..."} and
// {"type": "error", "error": {"message": "...", "detail": "..."}}. A
// non-JSON body is used as is when it is short text (not an HTML page).
func providerMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	var doc struct {
		Message          json.RawMessage `json:"message"`
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		if body[0] == '<' {
			return ""
		}
		return Truncate(strings.Join(strings.Fields(string(body)), " "), 300)
	}
	var parts []string
	add := func(raw json.RawMessage) {
		var s string
		if len(raw) == 0 || string(raw) == "null" {
			return
		}
		if json.Unmarshal(raw, &s) == nil {
			parts = append(parts, s)
			return
		}
		var nested struct {
			Message string          `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		}
		if json.Unmarshal(raw, &nested) == nil && nested.Message != "" {
			parts = append(parts, nested.Message)
			if len(nested.Detail) > 0 && string(nested.Detail) != "null" {
				if json.Unmarshal(nested.Detail, &s) == nil {
					parts = append(parts, s)
				} else {
					parts = append(parts, compactJSON(nested.Detail))
				}
			}
			return
		}
		parts = append(parts, compactJSON(raw))
	}
	add(doc.Message)
	add(doc.Error)
	if doc.ErrorDescription != "" {
		parts = append(parts, doc.ErrorDescription)
	}
	return Truncate(strings.Join(parts, ": "), 300)
}

// compactJSON is raw without insignificant spaces.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Truncate shortens s to at most n characters (runes), for provider
// fields with a length limit.
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

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b))
}

// hostPort is the URL's host with its port made explicit.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u.Host + ":443"
	case "http":
		return u.Host + ":80"
	}
	return u.Host
}

// origin is "scheme://host[:port]".
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
