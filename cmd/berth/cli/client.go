// Package cli is berth's command-line client: it talks to a berth server's
// REST API with an API key saved by `berth login`.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/atomicfile"
)

// Exit codes of the berth CLI.
const (
	ExitOK       = 0
	ExitError    = 1 // the server refused the request or could not be reached
	ExitUsage    = 2 // wrong command line
	ExitAuth     = 3 // not logged in or credentials rejected
	ExitNotFound = 4 // the named resource does not exist
)

// ExitError carries an exit code with a message for the user.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// Code returns the process exit code for err.
func Code(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, msg: fmt.Sprintf(format, args...)}
}

// Credentials are what `berth login` saves.
type Credentials struct {
	Server   string `json:"server"`
	APIKey   string `json:"api_key"`
	APIKeyID string `json:"api_key_id,omitempty"`
}

// credentialsPath is $XDG_CONFIG_HOME/berth/credentials.json (or ~/.config/...).
func credentialsPath() (string, error) {
	if p := os.Getenv("BERTH_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config dir: %w", err)
	}
	return filepath.Join(dir, "berth", "credentials.json"), nil
}

func loadCredentials() (Credentials, error) {
	var c Credentials
	path, err := credentialsPath()
	if err != nil {
		return c, err
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("read %s: %w", path, err)
	}
	if err == nil {
		if err := json.Unmarshal(data, &c); err != nil {
			return c, fmt.Errorf("parse %s: %w", path, err)
		}
	}
	return c, nil
}

func saveCredentials(ctx context.Context, c Credentials) error {
	path, err := credentialsPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config dir: %w", err)
	}
	data, _ := json.MarshalIndent(c, "", "  ")
	if err := atomicfile.WriteFile(ctx, path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// Client calls the berth API.
type Client struct {
	Server string
	Token  string
	HTTP   *http.Client
	// csrf and cookie are used during login, before an API key exists.
	csrf, cookie string
}

func newClient(server, token string) *Client {
	return &Client{Server: strings.TrimRight(server, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// apiError is the server's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// Do sends a request with an optional JSON body and decodes a JSON answer into out.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	if c.Server == "" {
		return &exitError{code: ExitAuth, msg: "no server configured: run `berth login --server URL` or set BERTH_SERVER"}
	}
	u := c.Server + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return usageErr("bad server URL %q: %v", c.Server, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	} else if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach berth at %s: %w", c.Server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	for _, sc := range resp.Cookies() {
		if sc.Name == "berth_session" {
			c.cookie = sc.Name + "=" + sc.Value
		}
	}
	if resp.StatusCode >= 400 {
		var e apiError
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			msg = e.Error.Message
		}
		code := ExitError
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			code = ExitAuth
			if c.Token != "" {
				msg += " (run `berth login` again)"
			}
		case http.StatusNotFound:
			code = ExitNotFound
		}
		return &exitError{code: code, msg: fmt.Sprintf("%s (HTTP %d)", msg, resp.StatusCode)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer from %s %s: %w", method, path, err)
		}
	}
	return nil
}
