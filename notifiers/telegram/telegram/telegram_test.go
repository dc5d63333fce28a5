package telegram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

// fakeBotAPI implements the Bot API's sendMessage strictly: wrong method,
// path, token, content type, fields, HTML or length fail the test.
type fakeBotAPI struct {
	*httptest.Server
	t     testing.TB
	mu    sync.Mutex
	texts map[int64]string // by message id
	next  int64
}

func newFake(t *testing.T) *fakeBotAPI {
	f := &fakeBotAPI{t: t, texts: map[int64]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/bot"+token+"/sendMessage" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"ok":false,"error_code":404,"description":"Not Found"}`))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	dec := json.NewDecoder(&body)
	dec.DisallowUnknownFields()
	var req Request
	if err := dec.Decode(&req); err != nil {
		t.Errorf("body: %v", err)
	}
	if string(req.ChatID) != "-1001234567890" || req.MessageThreadID != 7 || req.ParseMode != "HTML" || req.LinkPreviewOptions == nil || !req.LinkPreviewOptions.IsDisabled {
		t.Errorf("request %+v", req)
	}
	checkHTML(t, req.Text)
	f.mu.Lock()
	f.next++
	id := f.next
	f.texts[id] = req.Text
	f.mu.Unlock()
	fmt.Fprintf(w, `{"ok":true,"result":{"message_id":%d,"date":1735787045,"chat":{"id":-1001234567890,"type":"supergroup"},"text":"x"}}`, id)
}

var (
	tagRE    = regexp.MustCompile(`<(/?)([a-z]+)((?: href="[^"<>]*")?)>`)
	entityRE = regexp.MustCompile(`&(lt|gt|amp|quot);`)
)

// checkHTML fails t when text is not HTML the Bot API accepts (only the
// tags berth uses, balanced; every <, > and & escaped) or when its visible
// text exceeds MaxText.
func checkHTML(t testing.TB, text string) {
	t.Helper()
	var stack []string
	rest := tagRE.ReplaceAllStringFunc(text, func(tag string) string {
		m := tagRE.FindStringSubmatch(tag)
		switch {
		case m[2] != "b" && m[2] != "i" && m[2] != "a":
			t.Errorf("unsupported tag %s", tag)
		case m[1] == "":
			if (m[2] == "a") != (m[3] != "") {
				t.Errorf("bad tag %s", tag)
			}
			stack = append(stack, m[2])
		case len(stack) == 0 || stack[len(stack)-1] != m[2]:
			t.Errorf("unbalanced %s in %q", tag, text)
		default:
			stack = stack[:len(stack)-1]
		}
		return ""
	})
	if len(stack) > 0 {
		t.Errorf("unclosed tags %v", stack)
	}
	if strings.ContainsAny(entityRE.ReplaceAllString(rest, ""), "<>&") {
		t.Errorf("unescaped <, > or & in %q", text)
	}
	if n := Len(html.UnescapeString(rest)); n > MaxText || n == 0 {
		t.Errorf("visible text of %d units, limit %d", n, MaxText)
	}
}

func settingsFor(url string) json.RawMessage {
	s, _ := json.Marshal(Settings{BotToken: token, ChatID: "-1001234567890", MessageThreadID: 7, BaseURL: url + "/"})
	return s
}

func TestConformance(t *testing.T) {
	f := newFake(t)
	plugintest.TestNotifier(t, plugintest.Notifier(t, New()), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settingsFor(f.URL), InvalidSettings: json.RawMessage(`{"bot_token": "nope", "chat_id": "x y"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			f.mu.Lock()
			defer f.mu.Unlock()
			for _, text := range f.texts {
				if strings.HasSuffix(text, "event "+ev.ID+"</i>") {
					for _, want := range []string{"<b>", Escape(ev.Title) + "</b>", ev.Message, "<b>Project:</b> shop", `<a href="` + ev.URL + `">Open in berth</a>`} {
						if !strings.Contains(text, want) {
							t.Errorf("text lacks %q: %s", want, text)
						}
					}
					return
				}
			}
			t.Errorf("event %s did not arrive", ev.ID)
		},
	})
}

func TestRenderEscapes(t *testing.T) {
	ev := sdk.Event{ID: "e<1>", Type: "x", Severity: sdk.SeverityWarning, Title: `a <b> & "c"`, Message: "if x < 3 && y > 2 </b><script>",
		URL: `https://b.test/?a=1&b="2"`, Fields: map[string]string{"k&": "<v>"}}
	got := Render(ev)
	checkHTML(t, got)
	want := "<b>🟡 a &lt;b&gt; &amp; &quot;c&quot;</b>\n\n" +
		"if x &lt; 3 &amp;&amp; y &gt; 2 &lt;/b&gt;&lt;script&gt;\n\n" +
		"<b>k&amp;:</b> &lt;v&gt;\n\n" +
		`<a href="https://b.test/?a=1&amp;b=&quot;2&quot;">Open in berth</a>` + "\n\n" +
		"<i>Warning · event e&lt;1&gt;</i>"
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

func TestRenderLimits(t *testing.T) {
	tests := []struct {
		name    string
		message string
		fields  int
	}{
		{"long message", strings.Repeat("<&>", 3000), 3},
		{"emoji message", strings.Repeat("🚀", 5000), 0},
		{"many fields", "short", 400},
		{"both", strings.Repeat("m", 5000), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := plugintest.SampleEvent(sdk.EventDeployFailed)
			ev.Title = strings.Repeat("T", 500)
			ev.Message = tt.message
			for i := range tt.fields {
				ev.Fields[fmt.Sprint("field", i)] = strings.Repeat("v", 50)
			}
			got := Render(ev)
			checkHTML(t, got)
			if !strings.HasSuffix(got, "<i>Error · event evt-deploy.failed</i>") || !strings.Contains(got, "Open in berth") {
				t.Errorf("footer or link cut: %q", got[len(got)-80:])
			}
			if !strings.Contains(got, httpsend.Ellipsis) {
				t.Errorf("nothing was marked as cut")
			}
		})
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
		{"flood header", 429, "9", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 9","parameters":{"retry_after":9}}`, sdk.ErrUnavailable, 9 * time.Second},
		{"flood body", 429, "", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 4","parameters":{"retry_after":4}}`, sdk.ErrUnavailable, 4 * time.Second},
		{"server", 502, "", `Bad Gateway`, sdk.ErrUnavailable, 0},
		{"bad token", 401, "", `{"ok":false,"error_code":401,"description":"Unauthorized: token ` + token + ` AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}`, sdk.ErrUnauthenticated, 0},
		{"blocked", 403, "", `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`, sdk.ErrUnauthenticated, 0},
		{"chat not found", 400, "", `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, sdk.ErrInvalidArgument, 0},
		{"not ok", 200, "", `{"ok":false,"description":"odd"}`, sdk.ErrUnavailable, 0},
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
			if strings.Contains(err.Error(), "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestNetworkErrorHidesToken(t *testing.T) {
	n := New()
	s, _ := json.Marshal(Settings{BotToken: token, ChatID: "@berth_alerts", BaseURL: "http://127.0.0.1:1"})
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: s}); err != nil {
		t.Fatal(err)
	}
	_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
	if !errors.Is(err, sdk.ErrUnavailable) || strings.Contains(err.Error(), "AAHdq") {
		t.Errorf("Send = %v", err)
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		settings string
		field    string
	}{
		{`{"bot_token": "` + token + `", "chat_id": "@berth_alerts"}`, ""},
		{`{"bot_token": "` + token + `", "chat_id": "42", "message_thread_id": 3, "silent": true}`, ""},
		{`{"chat_id": "42"}`, "bot_token"},
		{`{"bot_token": "secret-but-wrong-shape", "chat_id": "42"}`, "bot_token"},
		{`{"bot_token": "` + token + `"}`, "chat_id"},
		{`{"bot_token": "` + token + `", "chat_id": "general chat"}`, "chat_id"},
		{`{"bot_token": "` + token + `", "chat_id": "42", "message_thread_id": -1}`, "message_thread_id"},
		{`{"bot_token": "` + token + `", "chat_id": "42", "base_url": "api.telegram.org"}`, "base_url"},
	}
	for _, tt := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("Configure(%s) = %v", tt.settings, err)
		case tt.field != "" && (!errors.As(err, &ce) || ce.Fields[0].Field != tt.field):
			t.Errorf("Configure(%s) = %v, want a field error on %s", tt.settings, err, tt.field)
		case err != nil && strings.Contains(err.Error(), "secret-but-wrong-shape"):
			t.Errorf("error repeats the token: %v", err)
		}
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	json.Unmarshal(settingsSchema, &s)
	if s.Properties["bot_token"]["writeOnly"] != true || s.Properties["base_url"]["x-berth-outbound-url"] != true {
		t.Errorf("schema %v", s.Properties)
	}
	plugintest.CheckSettingsSchema(t, settingsSchema, Settings{})
}
