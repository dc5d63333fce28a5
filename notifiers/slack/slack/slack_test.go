package slack

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

const hookPath = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

// fakeSlack implements Slack's incoming webhook endpoint strictly: it fails
// the test on any request Slack would refuse or that breaks a documented
// Block Kit limit.
type fakeSlack struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	messages []Message
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{t: t}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != hookPath {
		t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, hookPath)
		http.Error(w, "no_service", http.StatusNotFound)
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
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	checkMessage(t, m)
	f.mu.Lock()
	f.messages = append(f.messages, m)
	f.mu.Unlock()
	w.Write([]byte("ok"))
}

// checkMessage fails t when m breaks Slack's documented rules.
func checkMessage(t testing.TB, m Message) {
	t.Helper()
	n := utf8.RuneCountInString
	if m.Text == "" || n(m.Text) > MaxFallbackText {
		t.Errorf("fallback text of %d characters", n(m.Text))
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > MaxBlocks {
		t.Errorf("%d blocks", len(m.Blocks))
	}
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" || n(b.Text.Text) > MaxHeaderText || b.Fields != nil || b.Elements != nil {
				t.Errorf("block %d: bad header %+v", i, b)
			}
		case "section":
			if (b.Text == nil) == (len(b.Fields) == 0) || b.Elements != nil {
				t.Errorf("block %d: section needs text or fields: %+v", i, b)
			}
			if b.Text != nil && (b.Text.Type != "mrkdwn" || b.Text.Text == "" || n(b.Text.Text) > MaxSectionText) {
				t.Errorf("block %d: section text of %d characters", i, n(b.Text.Text))
			}
			if len(b.Fields) > MaxFields {
				t.Errorf("block %d: %d fields", i, len(b.Fields))
			}
			for _, f := range b.Fields {
				if f.Type != "mrkdwn" || f.Text == "" || n(f.Text) > MaxFieldText {
					t.Errorf("block %d: field of %d characters", i, n(f.Text))
				}
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > MaxContextItems || b.Text != nil || b.Fields != nil {
				t.Errorf("block %d: bad context %+v", i, b)
			}
			for _, e := range b.Elements {
				if e.Type != "mrkdwn" || e.Text == "" || n(e.Text) > MaxSectionText {
					t.Errorf("block %d: context element %+v", i, e)
				}
			}
		default:
			t.Errorf("block %d: unexpected type %q", i, b.Type)
		}
	}
}

func (f *fakeSlack) find(id string) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.messages {
		if strings.Contains(m.Text, "(event "+id+")") {
			return m, true
		}
	}
	return Message{}, false
}

func settingsFor(url string) json.RawMessage {
	s, _ := json.Marshal(Settings{WebhookURL: url})
	return s
}

func TestConformance(t *testing.T) {
	f := newFakeSlack(t)
	plugintest.TestNotifier(t, plugintest.Notifier(t, New()), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settingsFor(f.URL + hookPath), InvalidSettings: json.RawMessage(`{"webhook_url": "hooks.slack.com/x"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			m, ok := f.find(ev.ID)
			if !ok {
				t.Fatalf("event %s did not arrive", ev.ID)
			}
			var all strings.Builder
			for _, b := range m.Blocks {
				for _, x := range append(append([]Text{}, b.Fields...), b.Elements...) {
					all.WriteString(x.Text + "\n")
				}
				if b.Text != nil {
					all.WriteString(b.Text.Text + "\n")
				}
			}
			for _, want := range []string{ev.Title, ev.Message, "Event " + ev.ID, "<" + ev.URL + "|Open in berth>", "*Project*\nshop", "*environment*\nproduction"} {
				if !strings.Contains(all.String(), want) {
					t.Errorf("blocks lack %q: %s", want, all.String())
				}
			}
			if ev.Deploy != nil && !strings.Contains(all.String(), "*Commit*\n0123456789ab") {
				t.Errorf("deploy details missing: %s", all.String())
			}
		},
	})
}

func TestRenderLimits(t *testing.T) {
	ev := plugintest.SampleEvent(sdk.EventDeployFailed)
	ev.Title = strings.Repeat("T", 500)
	ev.Message = strings.Repeat("<&>", 3000)
	ev.Deploy.Error = strings.Repeat("e<", 5000)
	ev.Fields = map[string]string{}
	for i := range 40 {
		ev.Fields[strings.Repeat("k", i+1)] = strings.Repeat("v&", 2000)
	}
	m := Render(ev)
	checkMessage(t, m)
	if h := m.Blocks[0].Text.Text; !strings.HasSuffix(h, httpsend.Ellipsis) {
		t.Errorf("header not truncated with an ellipsis: %q", h)
	}
	msg := m.Blocks[1].Text.Text
	if !strings.HasPrefix(msg, "&lt;&amp;&gt;") || strings.ContainsAny(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(msg, "&lt;", ""), "&gt;", ""), "&amp;", ""), "<>&") {
		t.Errorf("message not escaped: %.60q", msg)
	}
	last := m.Blocks[len(m.Blocks)-1]
	if last.Type != "context" || !strings.Contains(last.Elements[len(last.Elements)-1].Text, "Event evt-deploy.failed") {
		t.Errorf("the event id is not in the last block: %+v", last)
	}
	if !strings.HasSuffix(m.Text, "(event evt-deploy.failed)") {
		t.Errorf("fallback lacks the event id: %.80q", m.Text)
	}
}

func TestRenderUnknownAndMinimal(t *testing.T) {
	m := Render(sdk.Event{ID: "e1", Type: "x.y", Title: "Hello <b>", Message: ""})
	checkMessage(t, m)
	if m.Blocks[0].Text.Text != ":large_blue_circle: Hello <b>" {
		t.Errorf("header %q", m.Blocks[0].Text.Text)
	}
	if m.Text != "Hello &lt;b&gt; (event e1)" {
		t.Errorf("fallback %q", m.Text)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		retryAfter string
		want       error
	}{
		{"rate limited", http.StatusTooManyRequests, "rate_limited", "12", sdk.ErrUnavailable},
		{"rollup error", http.StatusInternalServerError, "rollup_error", "", sdk.ErrUnavailable},
		{"invalid token", http.StatusForbidden, "invalid_token", "", sdk.ErrUnauthenticated},
		{"unauthorized", http.StatusUnauthorized, "", "", sdk.ErrUnauthenticated},
		{"no service", http.StatusNotFound, "no_service", "", sdk.ErrNotFound},
		{"invalid payload", http.StatusBadRequest, "invalid_payload", "", sdk.ErrInvalidArgument},
		{"archived", http.StatusGone, "channel_is_archived", "", sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			n := New()
			if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settingsFor(srv.URL + hookPath)}); err != nil {
				t.Fatal(err)
			}
			_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.body) {
				t.Fatalf("Send = %v, want %v with %q", err, tt.want, tt.body)
			}
			var ra *httpsend.RetryAfterError
			if tt.retryAfter != "" && (!errors.As(err, &ra) || ra.After != 12*time.Second) {
				t.Errorf("no Retry-After in %v", err)
			}
			if strings.Contains(err.Error(), "XXXXXXXX") || strings.Contains(err.Error(), "T00000000") {
				t.Errorf("error leaks the webhook URL: %v", err)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := map[string]string{
		`{}`:                               "webhook_url",
		`{"webhook_url": "ftp://x/y"}`:     "webhook_url",
		`{"webhook_url": 3}`:               "webhook_url",
		`{"url": "https://hooks.slack.x"}`: "url",
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
