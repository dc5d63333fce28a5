// Package restapi is the JSON-over-HTTPS client berth's hosted git
// providers (GitHub, Gitea) share: every request bounded by a timeout,
// confined to the configured API root, answers decoded from JSON, Link
// header pagination, and HTTP errors mapped to the sdk's error kinds with
// the provider's own message (see Error).
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

// maxBody bounds how much of an answer is read.
const maxBody = 32 << 20

// Client calls one git host's REST API. Its fields are read-only once
// requests are made; a Client is safe for concurrent use.
type Client struct {
	// Provider names the host in error messages ("github").
	Provider string
	// Base is the API root ("https://api.github.com",
	// "https://gitea.example.com/api/v1"). Every request URL must lie under
	// it, so that credentials never travel elsewhere.
	Base *url.URL
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Timeout bounds each request, reading the answer included; 0 leaves
	// it to the context.
	Timeout time.Duration
	// Header is added to every request: Accept, User-Agent, Authorization.
	Header http.Header
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

// Do sends a request and decodes a 2xx JSON answer into out (when out is
// not nil). ref is a path relative to Base, with its query
// ("repos/o/r/branches?per_page=100"), or an absolute URL that must lie
// under Base (a Link target, a page token). body, when not nil, is sent as
// JSON. A non-2xx answer is returned as an *Error.
func (c *Client) Do(ctx context.Context, method, ref string, body, out any) (*Response, error) {
	u, err := c.Resolve(ref)
	if err != nil {
		return nil, err
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
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
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, c.transportError(ctx, method, u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newError(c.Provider, method, u.Path, resp, data)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Next: NextLink(strings.Join(resp.Header.Values("Link"), ","), u)}
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s: %s %s: the answer is not the JSON expected: %w", c.Provider, method, u.Path, err)
		}
	}
	return r, nil
}

// transportError reports a request that got no HTTP answer. A cancelled or
// expired context is wrapped as such; anything else wraps
// sdk.ErrUnavailable.
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
// under Base: same scheme and host, path inside Base's path. Anything else
// is refused with sdk.ErrInvalidArgument.
func (c *Client) Resolve(ref string) (*url.URL, error) {
	if c.Base == nil {
		return nil, fmt.Errorf("%s: no API root: %w", c.Provider, sdk.ErrInvalidArgument)
	}
	ref = strings.TrimSpace(ref)
	if strings.Contains(ref, "://") {
		u, err := url.Parse(ref)
		if err != nil || !c.Within(u) {
			return nil, fmt.Errorf("%s: %q is not under the API root %s: %w", c.Provider, ref, c.Base.Redacted(), sdk.ErrInvalidArgument)
		}
		return u, nil
	}
	u, err := url.Parse(strings.TrimSuffix(c.Base.String(), "/") + "/" + strings.TrimPrefix(ref, "/"))
	if err != nil || u.Fragment != "" || !c.Within(u) {
		return nil, fmt.Errorf("%s: path %q is not a path under the API root: %w", c.Provider, ref, sdk.ErrInvalidArgument)
	}
	return u, nil
}

// Within reports whether u lies under Base: same scheme and host (port
// included), no user information, and a cleaned path equal to or below
// Base's path.
func (c *Client) Within(u *url.URL) bool {
	if c.Base == nil || u == nil || u.User != nil || u.Opaque != "" {
		return false
	}
	if !strings.EqualFold(u.Scheme, c.Base.Scheme) || !strings.EqualFold(u.Host, c.Base.Host) {
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
