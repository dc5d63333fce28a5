// Package notifytest holds what the tests of berth's notifiers share: a
// fake service endpoint that fails the test on any deviation from the
// documented request, the error-mapping checks, the schema checks and the
// plugintest conformance run in-process and as the built binary.
package notifytest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// CheckFunc checks one request against the service's documented shape
// and reports every deviation with t.Errorf.
type CheckFunc func(t testing.TB, r *http.Request, body []byte)

// Server is a fake service endpoint.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	t     testing.TB
	check CheckFunc
	reply string

	mu         sync.Mutex
	bodies     [][]byte
	status     int
	retryAfter string
}

// NewServer starts a fake endpoint that checks each request with check and
// answers 200 with reply (a JSON document, or "" for an empty body).
func NewServer(t testing.TB, check CheckFunc, reply string) *Server {
	s := &Server{t: t, check: check, reply: reply}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("reading the request body: %v", err)
	}
	s.check(s.t, r, body)
	s.mu.Lock()
	s.bodies = append(s.bodies, body)
	status, ra := s.status, s.retryAfter
	s.mu.Unlock()
	if status != 0 {
		if ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":"fake failure"}`)
		return
	}
	if s.reply != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_, _ = io.WriteString(w, s.reply)
}

// Fail makes the server answer every following request with status (and
// a Retry-After header when retryAfter is set); status 0 restores success.
func (s *Server) Fail(status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.retryAfter = status, retryAfter
}

// Last returns the body of the last request, failing the test when there
// was none.
func (s *Server) Last(t testing.TB) []byte {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		t.Fatal("the fake service received no request")
	}
	return s.bodies[len(s.bodies)-1]
}

// Count returns how many requests the server received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

// DecodeStrict decodes body into v refusing unknown fields: the fake
// service's way of failing on a body that deviates from its shape.
func DecodeStrict(t testing.TB, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Errorf("request body %s: %v", body, err)
	}
}

// Header checks that r carries header name with value want.
func Header(t testing.TB, r *http.Request, name, want string) {
	t.Helper()
	if got := r.Header.Get(name); got != want {
		t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.URL.Path, name, got, want)
	}
}

// Route checks r's method and path.
func Route(t testing.TB, r *http.Request, method, path string) {
	t.Helper()
	if r.Method != method || r.URL.Path != path {
		t.Errorf("request %s %s, want %s %s", r.Method, r.URL.Path, method, path)
	}
}

// CheckErrors makes srv answer 429 with Retry-After, 503, 401 and 400 in
// turn and checks the errors send returns: retriable (with the delay),
// retriable, permanent unauthenticated, invalid argument. None may hold
// any of secrets.
func CheckErrors(t *testing.T, srv *Server, send func(ctx context.Context) error, secrets ...string) {
	t.Helper()
	defer srv.Fail(0, "")
	cases := []struct {
		status     int
		retryAfter string
		want       error
		wantAfter  time.Duration
	}{
		{http.StatusTooManyRequests, "7", sdk.ErrUnavailable, 7 * time.Second},
		{http.StatusServiceUnavailable, "", sdk.ErrUnavailable, 0},
		{http.StatusInternalServerError, "", sdk.ErrUnavailable, 0},
		{http.StatusUnauthorized, "", sdk.ErrUnauthenticated, 0},
		{http.StatusBadRequest, "", sdk.ErrInvalidArgument, 0},
	}
	for _, c := range cases {
		srv.Fail(c.status, c.retryAfter)
		err := send(t.Context())
		if !errors.Is(err, c.want) {
			t.Errorf("status %d: error %v, want %v", c.status, err, c.want)
			continue
		}
		if c.want != sdk.ErrUnavailable && errors.Is(err, sdk.ErrUnavailable) {
			t.Errorf("status %d: error %v is retriable, want permanent", c.status, err)
		}
		var ra *httpsend.RetryAfterError
		if c.wantAfter > 0 && (!errors.As(err, &ra) || ra.After != c.wantAfter) {
			t.Errorf("status %d: error %v does not carry Retry-After %s", c.status, err, c.wantAfter)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("status %d: error %q holds the secret %q", c.status, err, s)
			}
		}
	}
}

// CheckSchema checks that the plugin's settings schema marks the secret
// properties writeOnly and the URL properties as outbound URLs.
func CheckSchema(t *testing.T, p sdk.Plugin, secrets, urls []string) {
	t.Helper()
	r, err := p.ConfigSchema(t.Context(), &sdk.ConfigSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(r.Settings, &s); err != nil {
		t.Fatal(err)
	}
	for _, name := range secrets {
		if s.Properties[name]["writeOnly"] != true {
			t.Errorf("schema property %q is not writeOnly: %v", name, s.Properties[name])
		}
	}
	for _, name := range urls {
		if s.Properties[name]["x-berth-outbound-url"] != true {
			t.Errorf("schema property %q is not an outbound URL: %v", name, s.Properties[name])
		}
	}
}

// Conformance runs the plugintest notifier suite against newImpl() in
// process and against the plugin binary built from the test's directory
// (the plugin's main package). delivered checks that an event arrived.
func Conformance(t *testing.T, newImpl func() sdk.Notifier, settings, invalid json.RawMessage, delivered func(t testing.TB, ev sdk.Event)) {
	t.Helper()
	suite := plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: invalid},
		Delivered: delivered,
	}
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestNotifier(t, plugintest.Notifier(t, newImpl()), suite)
	})
	t.Run("subprocess", func(t *testing.T) {
		bin := plugintest.BuildPlugin(t, ".")
		plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), suite)
	})
}

// Contains fails the test unless body holds every one of wants.
func Contains(t testing.TB, body []byte, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(string(body), w) {
			t.Errorf("request body lacks %q: %s", w, body)
		}
	}
}
