// Package restapi is the JSON-over-HTTPS client berth's hosted git
// providers (GitHub, Gitea, GitLab, Bitbucket) share: every request bounded
// by a timeout, confined to the configured API root (request URLs,
// pagination links and page tokens alike; redirects to another origin are
// refused, so credentials never travel elsewhere), bounded answers decoded
// from JSON, Link header pagination, and HTTP errors mapped to the sdk's
// error kinds with the provider's own message (see Error).
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
	"strings"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// DefaultTimeout bounds a request when Client.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxBody bounds how much of an answer is read.
const maxBody = 16 << 20

// maxRedirects bounds the redirects followed by one request.
const maxRedirects = 5

// Client calls one git host's REST API. Its fields are read-only once
// requests are made; a Client is safe for concurrent use.
type Client struct {
	// Provider names the host in error messages ("github").
	Provider string
	// Base is the API root ("https://api.github.com",
	// "https://gitea.example.com/api/v1"). Every request URL must lie under
	// it, so that credentials never travel elsewhere.
	Base *url.URL
	// HTTP provides the transport; nil means http.DefaultTransport. Its
	// redirect policy is replaced by one that stays on Base's origin.
	HTTP *http.Client
	// Timeout bounds each request, reading the answer included
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// Header is added to every request: Accept (application/json when
	// absent), User-Agent, Authorization.
	Header http.Header
	// CredentialName names the credentials in 401 messages ("token" when
	// empty; "credentials" for a user name and password).
	CredentialName string
}

// Response describes an answer whose body was decoded.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header is the answer's header.
	Header http.Header
	// Next is the absolute URL of the Link header's rel="next" target, ""
	// on the last page.
	Next string
}

// ParseBaseURL validates an API or web root: an absolute http or https URL
// without credentials, query or fragment. The trailing slash is dropped.
// Errors wrap sdk.ErrInvalidArgument.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil:
		return nil, fmt.Errorf("base URL %q is not a URL: %w", raw, sdk.ErrInvalidArgument)
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

// Get calls GET path?query (path relative to Base and already escaped:
// "projects/group%2Fapp/repository/branches") and decodes the JSON answer
// into out (unless out is nil).
func (c *Client) Get(ctx context.Context, path string, query url.Values, out any) (*Response, error) {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Do sends a request and decodes a 2xx JSON answer into out (when out is
// not nil and the answer has a body). ref is a path relative to Base, with
// its query ("repos/o/r/branches?per_page=100"), or an absolute URL that
// must lie under Base (a Link target, a page token). body, when not nil,
// is sent as JSON. A non-2xx answer is returned as an *Error.
func (c *Client) Do(ctx context.Context, method, ref string, body, out any) (*Response, error) {
	u, err := c.Resolve(ref)
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding the request to %s: %w", c.Provider, u.Path, err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reader)
	if err != nil {
		return nil, fmt.Errorf("%s: %s %s: %w", c.Provider, method, u.Path, err)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, c.transportError(ctx, method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, c.transportError(ctx, method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.newError(method, u.Path, resp, data)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Next: NextLink(strings.Join(resp.Header.Values("Link"), ","), u)}
	if out != nil && resp.StatusCode != http.StatusNoContent && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s: %s %s: the answer is not the JSON expected: %w", c.Provider, method, u.Path, err)
		}
	}
	return r, nil
}

// httpClient is c.HTTP's transport with a redirect policy that never
// leaves Base's origin.
func (c *Client) httpClient() *http.Client {
	var transport http.RoundTripper
	if c.HTTP != nil {
		transport = c.HTTP.Transport
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if !sameOrigin(req.URL, c.Base) || req.URL.User != nil {
				return fmt.Errorf("refusing to follow a redirect to %s: credentials go to %s only", req.URL.Redacted(), c.Base.Scheme+"://"+c.Base.Host)
			}
			return nil
		},
	}
}

// transportError reports a request that got no HTTP answer. A cancelled
// context is wrapped as such, an expired one also as sdk.ErrUnavailable;
// anything else wraps sdk.ErrUnavailable.
func (c *Client) transportError(ctx context.Context, method string, u *url.URL, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return fmt.Errorf("%s: %s %s: no answer in time: %w (%w)", c.Provider, method, u.Redacted(), ctxErr, sdk.ErrUnavailable)
		}
		return fmt.Errorf("%s: %s %s: %w", c.Provider, method, u.Redacted(), ctxErr)
	}
	return fmt.Errorf("%s: %s %s: %v: %w", c.Provider, method, u.Redacted(), err, sdk.ErrUnavailable)
}

// Resolve turns ref (see Do) into an absolute URL and checks that it lies
// under Base (see Within). Anything else is refused with
// sdk.ErrInvalidArgument.
func (c *Client) Resolve(ref string) (*url.URL, error) {
	if c.Base == nil {
		return nil, fmt.Errorf("%s: no API root: %w", c.Provider, sdk.ErrInvalidArgument)
	}
	ref = strings.TrimSpace(ref)
	if strings.Contains(ref, "://") {
		return c.CheckURL(ref)
	}
	u, err := url.Parse(strings.TrimSuffix(c.Base.String(), "/") + "/" + strings.TrimPrefix(ref, "/"))
	if err != nil || u.Fragment != "" || !c.Within(u) {
		return nil, fmt.Errorf("%s: path %q is not a path under the API root: %w", c.Provider, ref, sdk.ErrInvalidArgument)
	}
	return u, nil
}

// CheckURL parses an absolute URL (a pagination link, a page token) and
// checks that it lies under Base (see Within). Anything else is refused
// with sdk.ErrInvalidArgument.
func (c *Client) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || !c.Within(u) {
		return nil, fmt.Errorf("%s: %q is not under the API root %s: %w", c.Provider, redact(raw), c.Base.Redacted(), sdk.ErrInvalidArgument)
	}
	return u, nil
}

// Within reports whether u lies under Base: same scheme, host and port
// (a default port may be spelled out), no user information, no dot
// segments, and a path equal to or below Base's path.
func (c *Client) Within(u *url.URL) bool {
	if c.Base == nil || u == nil || u.User != nil || u.Opaque != "" || !sameOrigin(u, c.Base) {
		return false
	}
	p := u.EscapedPath()
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." || strings.EqualFold(seg, "%2e%2e") || strings.EqualFold(seg, "%2e") {
			return false
		}
	}
	root := strings.TrimSuffix(c.Base.EscapedPath(), "/")
	return root == "" || p == root || strings.HasPrefix(p, root+"/")
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

// redact hides a password in a URL's user information.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// GetURL calls GET on an absolute URL the API returned (a pagination link,
// a page token) and decodes the JSON answer into out (unless out is nil).
// The URL must lie under Base (see CheckURL).
func (c *Client) GetURL(ctx context.Context, rawURL string, out any) (*Response, error) {
	u, err := c.CheckURL(rawURL)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, http.MethodGet, u.String(), nil, out)
}
