package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
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

// goldenDeployFailed is the payload of plugintest's deploy.failed sample,
// the example in docs/notifiers/webhook.md.
const goldenDeployFailed = `{
  "version": 1,
  "id": "evt-deploy.failed",
  "type": "deploy.failed",
  "time": "2025-01-02T03:04:05Z",
  "severity": "error",
  "title": "plugintest: deploy.failed",
  "message": "This is a deploy.failed event sent by the berth plugin conformance suite.",
  "project": "shop",
  "app": "api",
  "organization_id": "0b6f3c2e-7d1a-4f5e-9c3b-2a1d4e5f6a70",
  "project_id": "1c7a4d3f-8e2b-4a6f-8d4c-3b2e5f6a7b81",
  "environment_id": "2d8b5e4a-9f3c-4b7a-9e5d-4c3f6a7b8c92",
  "environment": "production",
  "url": "https://berth.example.test/projects/shop/apps/api",
  "fields": {"environment": "production"},
  "details": {
    "deploy": {
      "deployment_id": "dep-1",
      "commit": "0123456789abcdef0123456789abcdef01234567",
      "branch": "main",
      "image": "shop/api:42",
      "duration_ms": 93000,
      "error": "build failed: exit status 1",
      "trigger": "push",
      "builder": "builder.dockerfile",
      "failed_step": "build",
      "rollback_from": "",
      "rollback_to": ""
    }
  }
}`

func TestPayloadGolden(t *testing.T) {
	got, err := json.Marshal(NewPayload(plugintest.SampleEvent(sdk.EventDeployFailed)))
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, []byte(goldenDeployFailed)); err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Errorf("payload =\n%s\nwant\n%s", got, want.String())
	}
}

func TestPayloadDetails(t *testing.T) {
	tests := []struct {
		typ  sdk.EventType
		want string
	}{
		{sdk.EventBackupSucceeded, `{"backup":{"backup_id":"bak-1","database":"shop-db","target":"offsite","key":"postgres/shop-db/2025-01-02.sql.gz","size_bytes":12582912,"duration_ms":8000,"error":"","kind":"database","app":"","schedule":"","missed_at":"","missed_runs":0}}`},
		{sdk.EventBackupMissed, `{"backup":{"backup_id":"bak-1","database":"shop-db","target":"offsite","key":"","size_bytes":0,"duration_ms":0,"error":"2 scheduled backup run(s) were missed while berth was down","kind":"database","app":"","schedule":"0 3 * * *","missed_at":"2025-01-02T03:00:00Z","missed_runs":2}}`},
		{sdk.EventPreviewCreated, `{"preview":{"pull_request":17,"pull_request_url":"https://git.example.test/shop/api/pull/17","branch":"feature/cart","domain":"pr-17.api.shop.example.com"}}`},
		{sdk.EventRestoreFailed, `{"restore":{"restore_id":"rst-1","backup_id":"bak-1","database":"shop-db","app":"","target":"offsite","duration_ms":21000,"error":"pg_restore: exit status 1"}}`},
		{sdk.EventCertExpiring, `{"certificate":{"domains":["shop.example.com","www.shop.example.com"],"not_after":"2025-01-12T00:00:00Z","days_left":9,"issuer":"R11","resolver":"letsencrypt","error":""}}`},
		{sdk.EventPluginCrashed, `{"plugin":{"plugin_id":"notifier.slack","version":"0.4.0","restarts":3,"last_error":"exit status 2"}}`},
		{sdk.EventJobFailed, `{"job":{"job_id":"job-1","job_name":"nightly-report","run_id":"run-9","exit_code":2,"error":"exit status 2"}}`},
		{sdk.EventThresholdCrossed, `{"threshold":{"resource":"server","metric":"disk","value":91.5,"limit":90,"unit":"percent"}}`},
		{sdk.EventCleanupDone, `{"cleanup":{"reclaimed_bytes":3221225472,"images_removed":12,"containers_removed":4,"volumes_removed":1}}`},
		{sdk.EventBerthRestarted, `{"restart":{"version":"1.2.3","reason":"upgrade","previous_shutdown":"clean"}}`},
		{sdk.EventTest, `{}`},
		{"some.future_type", `{}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(NewPayload(plugintest.SampleEvent(tt.typ)).Details)
		if string(got) != tt.want {
			t.Errorf("details of %s = %s, want %s", tt.typ, got, tt.want)
		}
	}
	p := NewPayload(sdk.Event{ID: "x", Type: "t", Title: "T", Message: "M"})
	if _, err := time.Parse(time.RFC3339, p.Time); err != nil || p.Severity != "info" || p.Fields == nil {
		t.Errorf("defaults: time %q (%v), severity %q, fields %v", p.Time, err, p.Severity, p.Fields)
	}
}

func TestSignVerify(t *testing.T) {
	body := []byte(`{"id":"evt-1"}`)
	// echo -n '{"id":"evt-1"}' | openssl dgst -sha256 -hmac hush
	const want = "sha256=a0b048c6e75d07632c67343b8517892b5986621463e298d4eb3ebc0a22013df6"
	got := Sign("hush", body)
	if got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	tests := []struct {
		secret, sig string
		body        []byte
		ok          bool
	}{
		{"hush", got, body, true},
		{"other", got, body, false},
		{"hush", got, []byte(`{"id":"evt-2"}`), false},
		{"hush", strings.ToUpper(got), body, false},
		{"hush", "", body, false},
	}
	for i, tt := range tests {
		if Verify(tt.secret, tt.body, tt.sig) != tt.ok {
			t.Errorf("case %d: Verify = %v", i, !tt.ok)
		}
	}
}

// receiver is a strict stand-in for a webhook receiver: any deviation from
// the documented request fails the test.
type receiver struct {
	*httptest.Server
	t        testing.TB
	secret   string
	mu       sync.Mutex
	payloads map[string]Payload // by event id
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: secret, payloads: map[string]Payload{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	t := r.t
	var body bytes.Buffer
	body.ReadFrom(req.Body)
	check := func(what, got, want string) {
		if got != want {
			t.Errorf("request %s = %q, want %q", what, got, want)
		}
	}
	check("method", req.Method, http.MethodPost)
	check("path", req.URL.Path, "/hooks/berth")
	check("query", req.URL.RawQuery, "k=1")
	check("Content-Type", req.Header.Get("Content-Type"), "application/json")
	check("User-Agent", req.Header.Get("User-Agent"), "berth-notifier-webhook/"+Version)
	check("X-Team", req.Header.Get("X-Team"), "ops")
	check("Authorization", req.Header.Get("Authorization"), "Bearer hook-token")
	if !Verify(r.secret, body.Bytes(), req.Header.Get(SignatureHeader)) {
		t.Errorf("bad signature %q", req.Header.Get(SignatureHeader))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body.Bytes()))
	dec.DisallowUnknownFields()
	var p Payload
	if err := dec.Decode(&p); err != nil {
		t.Errorf("body %s: %v", body.String(), err)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(body.Bytes(), &raw)
	for _, k := range []string{"version", "id", "type", "time", "severity", "title", "message", "project", "app", "url", "fields", "details"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("body lacks %q: %s", k, body.String())
		}
	}
	if _, err := time.Parse(time.RFC3339, p.Time); err != nil {
		t.Errorf("time %q is not RFC 3339", p.Time)
	}
	check("X-Berth-Event", req.Header.Get(EventHeader), p.Type)
	check("X-Berth-Delivery", req.Header.Get(DeliveryHeader), p.ID)
	r.mu.Lock()
	r.payloads[p.ID] = p
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) settings() json.RawMessage {
	s, _ := json.Marshal(Settings{URL: r.URL + "/hooks/berth?k=1", Secret: r.secret,
		Headers: map[string]string{"X-Team": "ops"}, SecretHeaders: map[string]string{"Authorization": "Bearer hook-token"}})
	return s
}

func (r *receiver) suite() plugintest.NotifierSuite {
	return plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: r.settings(), InvalidSettings: json.RawMessage(`{"url": "ftp://nope", "headers": {"Bad Name": "x"}}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			r.mu.Lock()
			p, ok := r.payloads[ev.ID]
			r.mu.Unlock()
			if !ok {
				t.Errorf("event %s did not arrive", ev.ID)
			} else {
				want := NewPayload(ev)
				got, _ := json.Marshal(p)
				w, _ := json.Marshal(want)
				if !bytes.Equal(got, w) {
					t.Errorf("event %s arrived as %s, want %s", ev.ID, got, w)
				}
			}
		},
	}
}

func TestConformance(t *testing.T) {
	r := newReceiver(t, "hush")
	plugintest.TestNotifier(t, plugintest.Notifier(t, New()), r.suite())
}

func configured(t *testing.T, url string) *Notifier {
	n := New()
	s, _ := json.Marshal(Settings{URL: url, Secret: "hush", SecretHeaders: map[string]string{"Authorization": "Bearer hook-token", "X-Api-Key": "key-xyz-123"}})
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: s}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		want       error
		wantAfter  time.Duration
	}{
		{"rate limited", http.StatusTooManyRequests, "30", sdk.ErrUnavailable, 30 * time.Second},
		{"server error", http.StatusInternalServerError, "", sdk.ErrUnavailable, 0},
		{"unauthorized", http.StatusUnauthorized, "", sdk.ErrUnauthenticated, 0},
		{"gone", http.StatusNotFound, "", sdk.ErrNotFound, 0},
		{"rejected", http.StatusUnprocessableEntity, "", sdk.ErrInvalidArgument, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				http.Error(w, "no: "+req.Header.Get("Authorization")+" "+req.Header.Get("X-Api-Key"), tt.status)
			}))
			defer srv.Close()
			n := configured(t, srv.URL+"/secret-path-0123456789")
			_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			var ra *httpsend.RetryAfterError
			if tt.wantAfter > 0 && (!errors.As(err, &ra) || ra.After != tt.wantAfter) {
				t.Errorf("Send = %v, want Retry-After %v", err, tt.wantAfter)
			}
			for _, secret := range []string{"secret-path-0123456789", "hook-token", "hush", "key-xyz-123"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		field    string // "" for valid settings
	}{
		{"minimal", `{"url": "https://example.test/hook"}`, ""},
		{"full", `{"url": "http://127.0.0.1:9/x", "secret": "s", "headers": {"X-A": "1"}, "secret_headers": {"Authorization": "Bearer t"}}`, ""},
		{"no url", `{}`, "url"},
		{"bad scheme", `{"url": "ftp://x/y"}`, "url"},
		{"bad header name", `{"url": "https://x", "headers": {"X A": "1"}}`, "headers"},
		{"empty header name", `{"url": "https://x", "headers": {"": "1"}}`, "headers"},
		{"reserved header", `{"url": "https://x", "headers": {"content-type": "text/plain"}}`, "headers.content-type"},
		{"berth header", `{"url": "https://x", "secret_headers": {"X-Berth-Signature": "x"}}`, "secret_headers.X-Berth-Signature"},
		{"header value newline", `{"url": "https://x", "secret_headers": {"Authorization": "a\r\nX-Evil: 1"}}`, "secret_headers.Authorization"},
		{"duplicate header", `{"url": "https://x", "headers": {"X-A": "1"}, "secret_headers": {"x-a": "2"}}`, "x-a"},
		{"unknown setting", `{"url": "https://x", "token": "t"}`, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Configure = %v", err)
				}
				return
			}
			var ce *sdk.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Configure = %v, want a field error on %s", err, tt.field)
			}
			if strings.Contains(err.Error(), "X-Evil") {
				t.Errorf("error repeats a header value: %v", err)
			}
		})
	}
}

func TestSchema(t *testing.T) {
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	if err := json.Unmarshal(settingsSchema, &s); err != nil {
		t.Fatal(err)
	}
	if s.Properties["url"]["x-berth-outbound-url"] != true || s.Properties["secret"]["writeOnly"] != true ||
		s.Properties["secret_headers"]["writeOnly"] != true || s.Properties["headers"]["writeOnly"] != nil {
		t.Errorf("schema properties %v", s.Properties)
	}
	if len(s.Required) != 1 || s.Required[0] != "url" {
		t.Errorf("required %v", s.Required)
	}
	plugintest.CheckSettingsSchema(t, settingsSchema, Settings{})
}

func TestNotConfigured(t *testing.T) {
	if _, err := New().Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)}); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("Send = %v", err)
	}
}
