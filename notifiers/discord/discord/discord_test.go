package discord

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

const hookPath = "/api/webhooks/1234567890/tok-abcdefghijklmnopqrstuvwxyz"

// fakeDiscord implements Discord's execute-webhook endpoint strictly: it
// fails the test on any request breaking the documented shape or limits.
type fakeDiscord struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	messages map[string]Message // by message id
	next     int
}

func newFakeDiscord(t *testing.T) *fakeDiscord {
	f := &fakeDiscord{t: t, messages: map[string]Message{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeDiscord) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != hookPath || r.URL.Query().Get("wait") != "true" || r.URL.Query().Get("thread_id") != "42" {
		t.Errorf("request %s %s, want POST %s?wait=true&thread_id=42", r.Method, r.URL, hookPath)
		http.Error(w, `{"message": "Unknown Webhook", "code": 10015}`, http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	dec := json.NewDecoder(&body)
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		t.Errorf("payload: %v", err)
	}
	checkMessage(t, m)
	f.mu.Lock()
	f.next++
	id := fmt.Sprint(1000 + f.next)
	f.messages[id] = m
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id": %q, "type": 0, "channel_id": "1"}`, id)
}

// checkMessage fails t when m breaks Discord's documented embed limits.
func checkMessage(t testing.TB, m Message) {
	t.Helper()
	n := utf8.RuneCountInString
	if len(m.Embeds) == 0 || len(m.Embeds) > 10 {
		t.Fatalf("%d embeds", len(m.Embeds))
	}
	if m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions %+v: mentions must be off", m.AllowedMentions)
	}
	total := 0
	for _, e := range m.Embeds {
		if e.Title == "" || n(e.Title) > MaxTitle || n(e.Description) > MaxDescription || len(e.Fields) > MaxFields {
			t.Errorf("embed title %d, description %d, %d fields", n(e.Title), n(e.Description), len(e.Fields))
		}
		if e.Color < 0 || e.Color > 0xFFFFFF {
			t.Errorf("colour %d", e.Color)
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				t.Errorf("timestamp %q", e.Timestamp)
			}
		}
		total += n(e.Title) + n(e.Description)
		for _, f := range e.Fields {
			if f.Name == "" || f.Value == "" || n(f.Name) > MaxFieldName || n(f.Value) > MaxFieldValue {
				t.Errorf("field %q of %d/%d characters", f.Name, n(f.Name), n(f.Value))
			}
			total += n(f.Name) + n(f.Value)
		}
		if e.Footer != nil {
			if n(e.Footer.Text) > MaxFooter {
				t.Errorf("footer of %d", n(e.Footer.Text))
			}
			total += n(e.Footer.Text)
		}
	}
	if total > MaxTotal {
		t.Errorf("embeds total %d characters, limit %d", total, MaxTotal)
	}
}

func settingsFor(url string) json.RawMessage {
	s, _ := json.Marshal(Settings{WebhookURL: url + hookPath + "?thread_id=42", Username: "berth"})
	return s
}

func TestConformance(t *testing.T) {
	f := newFakeDiscord(t)
	n := plugintest.Notifier(t, New())
	plugintest.TestNotifier(t, n, plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settingsFor(f.URL), InvalidSettings: json.RawMessage(`{"webhook_url": "https://x/y", "username": "Discord bot"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			f.mu.Lock()
			defer f.mu.Unlock()
			var found *Message
			for _, m := range f.messages {
				if strings.HasSuffix(m.Embeds[0].Footer.Text, "event "+ev.ID) {
					found = &m
				}
			}
			if found == nil {
				t.Fatalf("event %s did not arrive", ev.ID)
			}
			e := found.Embeds[0]
			if e.Title != ev.Title || e.Color != Colour(ev.Severity) || e.URL != ev.URL || e.Timestamp != "2025-01-02T03:04:05Z" || found.Username != "berth" {
				t.Errorf("embed %+v", e)
			}
			if !strings.Contains(e.Description, "This is a") || len(e.Fields) < 3 || e.Fields[0] != (Field{Name: "Project", Value: "shop", Inline: true}) {
				t.Errorf("embed %+v", e)
			}
		},
	})
}

func TestSendReturnsMessageID(t *testing.T) {
	f := newFakeDiscord(t)
	n := New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settingsFor(f.URL)}); err != nil {
		t.Fatal(err)
	}
	r, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventDeployFailed)})
	if err != nil || r.MessageID == "" {
		t.Fatalf("Send = %+v, %v", r, err)
	}
	if m := f.messages[r.MessageID]; m.Embeds[0].Color != ColorError {
		t.Errorf("deploy.failed colour %x", m.Embeds[0].Color)
	}
}

func TestRenderLimits(t *testing.T) {
	ev := plugintest.SampleEvent(sdk.EventBackupFailed)
	ev.Title = strings.Repeat("T", 1000)
	ev.Message = strings.Repeat("*_", 5000)
	ev.Backup.Error = strings.Repeat("e", 5000)
	ev.Fields = map[string]string{}
	for i := range 40 {
		ev.Fields[fmt.Sprintf("%s%02d", strings.Repeat("k", 300), i)] = strings.Repeat("v", 2000)
	}
	m := Render(ev)
	checkMessage(t, m)
	e := m.Embeds[0]
	if !strings.HasSuffix(e.Title, httpsend.Ellipsis) || !strings.HasSuffix(e.Footer.Text, "event evt-backup.failed") {
		t.Errorf("title %q…, footer %q", e.Title[:10], e.Footer.Text)
	}
	if !strings.HasPrefix(e.Description, `\*\_`) || utf8.RuneCountInString(e.Description) < 900 {
		t.Errorf("description not escaped or too short: %d %.20q", utf8.RuneCountInString(e.Description), e.Description)
	}
	// Many small fields: at most 25.
	ev = plugintest.SampleEvent(sdk.EventTest)
	for i := range 40 {
		ev.Fields[fmt.Sprint("f", i+10)] = "v"
	}
	if got := len(Render(ev).Embeds[0].Fields); got != MaxFields {
		t.Errorf("%d fields, want %d", got, MaxFields)
	}
}

func TestEscape(t *testing.T) {
	tests := map[string]string{
		"my_app *v2*":    `my\_app \*v2\*`,
		"@everyone hi":   "@\u200beveryone hi",
		"`code` ~x~ |s|": "\\`code\\` \\~x\\~ \\|s\\|",
		`a\b`:            `a\\b`,
		"plain":          "plain",
	}
	for in, want := range tests {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header string
		body   string
		want   error
		after  time.Duration
	}{
		{"rate limited header", http.StatusTooManyRequests, "3", `{"message": "You are being rate limited.", "retry_after": 3.5, "global": false}`, sdk.ErrUnavailable, 3 * time.Second},
		{"rate limited body", http.StatusTooManyRequests, "", `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`, sdk.ErrUnavailable, 1500 * time.Millisecond},
		{"server error", http.StatusBadGateway, "", "", sdk.ErrUnavailable, 0},
		{"invalid token", http.StatusUnauthorized, "", `{"message": "Invalid Webhook Token", "code": 50027}`, sdk.ErrUnauthenticated, 0},
		{"unknown webhook", http.StatusNotFound, "", `{"message": "Unknown Webhook", "code": 10015}`, sdk.ErrNotFound, 0},
		{"bad form", http.StatusBadRequest, "", `{"message": "Invalid Form Body", "code": 50035}`, sdk.ErrInvalidArgument, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			n := New()
			if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settingsFor(srv.URL)}); err != nil {
				t.Fatal(err)
			}
			_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			var ra *httpsend.RetryAfterError
			if tt.after > 0 && (!errors.As(err, &ra) || ra.After != tt.after) {
				t.Errorf("Send = %v, want Retry-After %v", err, tt.after)
			}
			if strings.Contains(err.Error(), "tok-abcdefghijklmnopqrstuvwxyz") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := map[string]string{
		`{}`: "webhook_url",
		`{"webhook_url": "https://discord.com/api/webhooks/1/x", "username": "` + strings.Repeat("u", 81) + `"}`: "username",
		`{"webhook_url": "https://discord.com/api/webhooks/1/x", "username": "clyde"}`:                           "username",
		`{"webhook_url": "https://discord.com/api/webhooks/1/x", "avatar_url": "nope"}`:                          "avatar_url",
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
