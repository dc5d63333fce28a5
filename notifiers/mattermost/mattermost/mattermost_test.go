package mattermost

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
	"unicode/utf8"

	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const hookPath = "/hooks/xxxgeneratedkeyxxx1234"

// fakeMattermost implements Mattermost's incoming webhook endpoint strictly.
type fakeMattermost struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	payloads []Payload
}

func newFake(t *testing.T) *fakeMattermost {
	f := &fakeMattermost{t: t}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMattermost) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != hookPath {
		t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, hookPath)
		http.Error(w, `{"id": "web.incoming_webhook.invalid.app_error", "status_code": 400}`, http.StatusBadRequest)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	dec := json.NewDecoder(&body)
	dec.DisallowUnknownFields()
	var p Payload
	if err := dec.Decode(&p); err != nil {
		t.Errorf("payload: %v", err)
	}
	checkPayload(t, p)
	f.mu.Lock()
	f.payloads = append(f.payloads, p)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok"))
}

// checkPayload fails t when p would be refused or breaks the limits.
func checkPayload(t testing.TB, p Payload) {
	t.Helper()
	n := utf8.RuneCountInString
	if p.Text == "" && len(p.Attachments) == 0 {
		t.Errorf("neither text nor attachments")
	}
	if n(p.Text) > MaxMessage {
		t.Errorf("text of %d characters", n(p.Text))
	}
	for _, a := range p.Attachments {
		if a.Fallback == "" || a.Title == "" || n(a.Title) > MaxTitle || n(a.Text) > MaxAttachmentText || len(a.Fields) > MaxFields {
			t.Errorf("attachment %+v", a)
		}
		if len(a.Color) != 7 || a.Color[0] != '#' {
			t.Errorf("colour %q", a.Color)
		}
		for _, f := range a.Fields {
			if f.Title == "" || f.Value == "" || n(f.Value) > MaxFieldValue {
				t.Errorf("field %+v", f)
			}
		}
	}
	all, _ := json.Marshal(p)
	if bytes.Contains(all, []byte("@channel")) || bytes.Contains(all, []byte("@all")) {
		t.Errorf("payload mentions everyone: %s", all)
	}
}

func (f *fakeMattermost) find(id string) (Payload, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.payloads {
		if (len(p.Attachments) > 0 && strings.HasSuffix(p.Attachments[0].Footer, "event "+id)) || strings.HasSuffix(p.Text, "event "+Escape(id)+"_") {
			return p, true
		}
	}
	return Payload{}, false
}

func settingsFor(url, style string) json.RawMessage {
	s, _ := json.Marshal(Settings{WebhookURL: url + hookPath, Style: style, Username: "berth", Channel: "ops"})
	return s
}

func TestConformance(t *testing.T) {
	for _, style := range []string{StyleAttachment, StyleText} {
		t.Run(style, func(t *testing.T) {
			f := newFake(t)
			plugintest.TestNotifier(t, plugintest.Notifier(t, New()), plugintest.NotifierSuite{
				BaseSuite: plugintest.BaseSuite{Settings: settingsFor(f.URL, style), InvalidSettings: json.RawMessage(`{"webhook_url": "https://x/hooks/y", "style": "fancy"}`)},
				Delivered: func(t testing.TB, ev sdk.Event) {
					p, ok := f.find(ev.ID)
					if !ok {
						t.Fatalf("event %s did not arrive", ev.ID)
					}
					if p.Username != "berth" || p.Channel != "ops" {
						t.Errorf("username %q channel %q", p.Username, p.Channel)
					}
					if style == StyleText {
						for _, want := range []string{"#### plugintest: " + Escape(string(ev.Type)), "- **Project**: shop", "[Open in berth](" + ev.URL + ")"} {
							if !strings.Contains(p.Text, want) {
								t.Errorf("text lacks %q: %s", want, p.Text)
							}
						}
						return
					}
					a := p.Attachments[0]
					if a.Title != ev.Title || a.TitleLink != ev.URL || a.Color != Colour(ev.Severity) || a.Fields[0] != (Field{Title: "Project", Value: "shop", Short: true}) {
						t.Errorf("attachment %+v", a)
					}
				},
			})
		})
	}
}

func TestRenderLimits(t *testing.T) {
	ev := plugintest.SampleEvent(sdk.EventDeployFailed)
	ev.Title = strings.Repeat("T", 1000)
	ev.Message = "@channel " + strings.Repeat("*x_", 9000)
	ev.Deploy.Error = strings.Repeat("e", 9000)
	for i := range 40 {
		ev.Fields[strings.Repeat("k", i+1)] = strings.Repeat("v", 3000)
	}
	for _, style := range []string{StyleAttachment, StyleText} {
		p := Render(ev, style)
		checkPayload(t, p)
		if style == StyleText && !strings.HasSuffix(p.Text, "event evt-deploy.failed_") {
			t.Errorf("text does not end with the event id: %q", p.Text[len(p.Text)-60:])
		}
		if style == StyleAttachment && (!strings.HasPrefix(p.Attachments[0].Text, "@\u200bchannel \\*x\\_") || !strings.HasSuffix(p.Attachments[0].Title, httpsend.Ellipsis)) {
			t.Errorf("attachment text %.40q", p.Attachments[0].Text)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header string
		want   error
	}{
		{"rate limited", http.StatusTooManyRequests, "5", sdk.ErrUnavailable},
		{"server error", http.StatusInternalServerError, "", sdk.ErrUnavailable},
		{"unauthorized", http.StatusUnauthorized, "", sdk.ErrUnauthenticated},
		{"bad request", http.StatusBadRequest, "", sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				http.Error(w, `{"id": "web.incoming_webhook.error", "message": "refused", "status_code": 400}`, tt.status)
			}))
			defer srv.Close()
			n := New()
			if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settingsFor(srv.URL, "")}); err != nil {
				t.Fatal(err)
			}
			_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
			if !errors.Is(err, tt.want) || strings.Contains(err.Error(), "xxxgeneratedkeyxxx") {
				t.Fatalf("Send = %v, want %v without the key", err, tt.want)
			}
			var ra *httpsend.RetryAfterError
			if tt.header != "" && (!errors.As(err, &ra) || ra.After != 5*time.Second) {
				t.Errorf("no Retry-After in %v", err)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := map[string]string{
		`{}`: "webhook_url",
		`{"webhook_url": "https://m/hooks/x", "style": "card"}`:        "style",
		`{"webhook_url": "https://m/hooks/x", "icon_url": "x"}`:        "icon_url",
		`{"webhook_url": "https://m/hooks/x", "channel": "two words"}`: "channel",
	}
	for in, field := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(in)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != field {
			t.Errorf("Configure(%s) = %v, want a field error on %s", in, err, field)
		}
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	json.Unmarshal(settingsSchema, &s)
	if p := s.Properties["webhook_url"]; p["writeOnly"] != true || p["x-berth-outbound-url"] != true {
		t.Errorf("webhook_url schema %v", p)
	}
	plugintest.CheckSettingsSchema(t, settingsSchema, Settings{})
}
