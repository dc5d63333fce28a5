package main

import (
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/berth-dev/berth/notifiers/email/email"
	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
	"github.com/berth-dev/berth/test/mailpittest"
)

const (
	user     = "ops"
	password = "s3cret-pass!"
	from     = "berth <berth@example.com>"
)

var users = map[string]string{user: password}

// settings returns notifier settings for srv.
func settings(srv *mailpittest.Server, security string, extra map[string]any) json.RawMessage {
	s := map[string]any{
		"host": srv.SMTPHost, "port": srv.SMTPPort, "security": security,
		"from": from, "to": []string{"alice@example.com", "Ops Team <ops@example.org>"},
	}
	if srv.CAPEM != "" {
		s["ca_cert"] = srv.CAPEM
	}
	for k, v := range extra {
		s[k] = v
	}
	b, _ := json.Marshal(s)
	return b
}

func configured(t *testing.T, s json.RawMessage) *email.Notifier {
	n := email.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: s}); err != nil {
		t.Fatal(err)
	}
	return n
}

// received returns the one message mailpit holds for ev, failing the test
// otherwise.
func received(t testing.TB, srv *mailpittest.Server, ev sdk.Event) mailpittest.Message {
	t.Helper()
	mid := strings.Trim(email.MessageID(ev.ID, "example.com"), "<>")
	got := srv.ByMessageID(t, mid)
	if len(got) != 1 {
		t.Fatalf("mailpit holds %d messages with Message-ID %s, want 1", len(got), mid)
	}
	return srv.Message(t, got[0].ID)
}

func TestSendModes(t *testing.T) {
	auth := map[string]any{"username": user, "password": password}
	tests := []struct {
		name     string
		opts     mailpittest.Options
		security string
		extra    map[string]any
	}{
		{"starttls, AUTH PLAIN", mailpittest.Options{TLS: true, RequireSTARTTLS: true, Users: users}, email.SecuritySTARTTLS, auth},
		{"starttls, AUTH LOGIN", mailpittest.Options{TLS: true, RequireSTARTTLS: true, Users: users}, email.SecuritySTARTTLS, map[string]any{"username": user, "password": password, "auth": "login"}},
		{"implicit tls, AUTH LOGIN", mailpittest.Options{RequireTLS: true, Users: users}, email.SecurityTLS, map[string]any{"username": user, "password": password, "auth": "login"}},
		{"none on loopback, AUTH PLAIN", mailpittest.Options{Users: users}, email.SecurityNone, auth},
		{"none on loopback, no auth", mailpittest.Options{}, email.SecurityNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailpittest.Start(t, tt.opts)
			n := configured(t, settings(srv, tt.security, tt.extra))
			ev := plugintest.SampleEvent(sdk.EventDeployFailed)
			ev.Message = `Build of <main> failed & "stopped".`
			r, err := n.Send(t.Context(), &sdk.SendRequest{Event: ev})
			if err != nil {
				t.Fatal(err)
			}
			if r.MessageID != "<berth-event.evt-deploy.failed@example.com>" {
				t.Errorf("MessageID = %q", r.MessageID)
			}
			m := received(t, srv, ev)
			if m.Subject != ev.Title {
				t.Errorf("Subject = %q, want %q", m.Subject, ev.Title)
			}
			if m.From == nil || m.From.Address != "berth@example.com" || m.From.Name != "berth" {
				t.Errorf("From = %v", m.From)
			}
			var to []string
			for _, a := range m.To {
				to = append(to, a.Name+" <"+a.Address+">")
			}
			if strings.Join(to, ", ") != " <alice@example.com>, Ops Team <ops@example.org>" {
				t.Errorf("To = %v", to)
			}
			for _, want := range []string{ev.Message, "Event ID: evt-deploy.failed", "Error: build failed: exit status 1", ev.URL} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text part lacks %q:\n%s", want, m.Text)
				}
			}
			for _, want := range []string{"Build of &lt;main&gt; failed &amp; &#34;stopped&#34;.", "Event ID: evt-deploy.failed", `<a href="` + ev.URL + `">`} {
				if !strings.Contains(m.HTML, want) {
					t.Errorf("HTML part lacks %q:\n%s", want, m.HTML)
				}
			}
			h := srv.Headers(t, m.ID)
			for name, want := range map[string]string{
				"Message-Id": "<berth-event.evt-deploy.failed@example.com>", "Mime-Version": "1.0",
				"X-Berth-Event-Id": "evt-deploy.failed", "X-Berth-Event-Type": "deploy.failed",
				"Auto-Submitted": "auto-generated", "Date": "Thu, 02 Jan 2025 03:04:05 +0000",
			} {
				if got := header(h, name); got != want {
					t.Errorf("header %s = %q, want %q (headers %v)", name, got, want, h)
				}
			}
			if ct := header(h, "Content-Type"); !strings.HasPrefix(ct, "multipart/alternative; boundary=") {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

// header returns a header's value from mailpit's map, whatever its case.
func header(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func TestSameEventSameMessageID(t *testing.T) {
	srv := mailpittest.Start(t, mailpittest.Options{})
	n := configured(t, settings(srv, email.SecurityNone, nil))
	ev := plugintest.SampleEvent(sdk.EventBackupSucceeded)
	ev.Title = strings.Repeat("Sauvegarde réussie — ", 9) // 189 runes, under the subject limit
	var ids []string
	for range 2 {
		r, err := n.Send(t.Context(), &sdk.SendRequest{Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.MessageID)
	}
	mid := strings.Trim(ids[0], "<>")
	got := srv.ByMessageID(t, mid)
	if ids[0] != ids[1] || len(got) != 2 {
		t.Fatalf("Message-IDs %v, mailpit holds %d with %s", ids, len(got), mid)
	}
	if want := strings.TrimSpace(ev.Title); got[0].Subject != want {
		t.Errorf("long non-ASCII subject arrived as %q, want %q", got[0].Subject, want)
	}
	if weird := email.MessageID("a b<c>@d", "example.com"); strings.ContainsAny(strings.Trim(weird, "<>"), " <>") || weird != email.MessageID("a b<c>@d", "example.com") {
		t.Errorf("MessageID of an unsafe id = %q", weird)
	}
}

func TestErrors(t *testing.T) {
	tls := mailpittest.Start(t, mailpittest.Options{TLS: true, RequireSTARTTLS: true, Users: users})
	plain := mailpittest.Start(t, mailpittest.Options{})
	down := &mailpittest.Server{SMTPHost: "127.0.0.1", SMTPPort: closedPort(t)}
	tests := []struct {
		name     string
		settings json.RawMessage
		want     error
	}{
		{"wrong password", settings(tls, email.SecuritySTARTTLS, map[string]any{"username": user, "password": "wrong"}), sdk.ErrUnauthenticated},
		{"untrusted certificate", settingsWithout(tls, "ca_cert", map[string]any{"username": user, "password": password}), sdk.ErrInvalidArgument},
		{"no STARTTLS offered", settings(plain, email.SecuritySTARTTLS, nil), sdk.ErrInvalidArgument},
		{"server down", settings(down, email.SecurityNone, nil), sdk.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := configured(t, tt.settings)
			_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			if tt.want != sdk.ErrUnavailable && errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("Send = %v: retriable, want permanent", err)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q holds the password", err)
			}
		})
	}
	if n := len(tls.Messages(t)) + len(plain.Messages(t)); n != 0 {
		t.Errorf("%d messages delivered despite the errors", n)
	}
}

func settingsWithout(srv *mailpittest.Server, drop string, extra map[string]any) json.RawMessage {
	var m map[string]any
	_ = json.Unmarshal(settings(srv, email.SecuritySTARTTLS, extra), &m)
	delete(m, drop)
	b, _ := json.Marshal(m)
	return b
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestConfigure(t *testing.T) {
	ok := `"from":"a@example.com","to":["b@example.com"]`
	tests := []struct{ settings, field string }{
		{`{` + ok + `}`, "host"},
		{`{"host":"smtp.example.com","security":"none",` + ok + `}`, "security"},
		{`{"host":"10.0.0.5","security":"none",` + ok + `}`, "security"},
		{`{"host":"smtp.example.com","security":"ssl",` + ok + `}`, "security"},
		{`{"host":"smtp.example.com","port":70000,` + ok + `}`, "port"},
		{`{"host":"smtp.example.com","username":"u",` + ok + `}`, "password"},
		{`{"host":"smtp.example.com","auth":"cram-md5",` + ok + `}`, "auth"},
		{`{"host":"smtp.example.com","ca_cert":"nope",` + ok + `}`, "ca_cert"},
		{`{"host":"smtp.example.com","from":"nope","to":["b@example.com"]}`, "from"},
		{`{"host":"smtp.example.com","from":"a@example.com","to":[]}`, "to"},
		{`{"host":"smtp.example.com","from":"a@example.com","to":["b@example.com","x"]}`, "to[1]"},
		{`{"host":"smtp.example.com:25",` + ok + `}`, "host"},
	}
	for _, tt := range tests {
		_, err := email.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want an error on %s", tt.settings, err, tt.field)
		}
	}
	for _, s := range []string{
		`{"host":"localhost","security":"none",` + ok + `}`,
		`{"host":"::1","security":"none",` + ok + `}`,
		`{"host":"smtp.example.com",` + ok + `}`,
	} {
		if _, err := email.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(s)}); err != nil {
			t.Errorf("Configure(%s) = %v", s, err)
		}
	}
	notifytest.CheckSchema(t, email.New(), []string{"password"}, nil)
	r, err := email.New().ConfigSchema(t.Context(), &sdk.ConfigSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(r.Settings, &sc); err != nil {
		t.Fatal(err)
	}
	// The SMTP server is checked by berth's outbound guard with its port.
	if got := sc.Properties["host"]["x-berth-outbound-host"]; got != "port" || sc.Properties["port"] == nil {
		t.Errorf(`schema property host has x-berth-outbound-host %v, want "port" (a property)`, got)
	}
}

func TestConformance(t *testing.T) {
	srv := mailpittest.Start(t, mailpittest.Options{TLS: true, RequireSTARTTLS: true, Users: users})
	s := settings(srv, email.SecuritySTARTTLS, map[string]any{"username": user, "password": password})
	notifytest.Conformance(t, func() sdk.Notifier { return email.New() }, s, json.RawMessage(`{"host":"smtp.example.com","security":"none"}`),
		func(t testing.TB, ev sdk.Event) {
			mid := strings.Trim(email.MessageID(ev.ID, "example.com"), "<>")
			if len(srv.ByMessageID(t, mid)) == 0 {
				t.Errorf("mailpit did not receive event %s", ev.ID)
			}
		})
}
