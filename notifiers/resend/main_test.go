package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/notifiers/resend/resend"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const apiKey = "re_123456789_secret"

// checkResend fails the test on any deviation from Resend's POST /emails.
func checkResend(t testing.TB, r *http.Request, body []byte) {
	notifytest.Route(t, r, http.MethodPost, "/emails")
	notifytest.Header(t, r, "Authorization", "Bearer "+apiKey)
	notifytest.Header(t, r, "Content-Type", "application/json")
	if k := r.Header.Get("Idempotency-Key"); !strings.HasPrefix(k, "berth-event/") || len(k) > 256 {
		t.Errorf("Idempotency-Key %q", k)
	}
	var e struct {
		From    string   `json:"from"`
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		HTML    string   `json:"html"`
		Text    string   `json:"text"`
		Tags    []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"tags"`
	}
	notifytest.DecodeStrict(t, body, &e)
	if e.From == "" || len(e.To) == 0 || len(e.To) > 50 || e.Subject == "" || e.HTML == "" || e.Text == "" {
		t.Errorf("e-mail %s lacks from, to (1-50), subject, html or text", body)
	}
	for _, tag := range e.Tags {
		if strings.Trim(tag.Name+tag.Value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			t.Errorf("tag %+v holds characters Resend refuses", tag)
		}
	}
}

func server(t *testing.T) *notifytest.Server {
	return notifytest.NewServer(t, checkResend, `{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}`)
}

func settings(url string) string {
	return `{"api_key":"` + apiKey + `","from":"berth <berth@example.com>","to":["a@example.com","b@example.com"],"base_url":"` + url + `"}`
}

func configured(t *testing.T, s string) *resend.Notifier {
	n := resend.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(s)}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSend(t *testing.T) {
	srv := server(t)
	n := configured(t, settings(srv.URL))
	ev := plugintest.SampleEvent(sdk.EventBackupFailed)
	ev.Message = "<b>bold</b> & more"
	r, err := n.Send(t.Context(), &sdk.SendRequest{Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	if r.MessageID != "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" {
		t.Errorf("MessageID = %q", r.MessageID)
	}
	var e resend.Email
	if err := json.Unmarshal(srv.Last(t), &e); err != nil {
		t.Fatal(err)
	}
	if e.Subject != ev.Title || strings.Join(e.To, ",") != "a@example.com,b@example.com" || e.From != "berth <berth@example.com>" {
		t.Errorf("e-mail %+v", e)
	}
	if !strings.Contains(e.HTML, "&lt;b&gt;bold&lt;/b&gt; &amp; more") || strings.Contains(e.HTML, "<b>bold") {
		t.Errorf("HTML part not escaped: %s", e.HTML)
	}
	if !strings.Contains(e.Text, "<b>bold</b> & more") || !strings.Contains(e.Text, "Event ID: "+ev.ID) || !strings.Contains(e.HTML, "Event ID: "+ev.ID) {
		t.Errorf("text part %q", e.Text)
	}
	if e.Tags[0].Value != "backup_failed" {
		t.Errorf("tags %+v", e.Tags)
	}
}

func TestErrors(t *testing.T) {
	srv := server(t)
	n := configured(t, settings(srv.URL))
	notifytest.CheckErrors(t, srv, func(ctx context.Context) error {
		_, err := n.Send(ctx, &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
		return err
	}, apiKey)
}

func TestConfigure(t *testing.T) {
	tests := []struct{ settings, field string }{
		{`{"from":"a@example.com","to":["b@example.com"]}`, "api_key"},
		{`{"api_key":"k","from":"nope","to":["b@example.com"]}`, "from"},
		{`{"api_key":"k","from":"a@example.com","to":[]}`, "to"},
		{`{"api_key":"k","from":"a@example.com","to":["b@example.com","x"]}`, "to[1]"},
		{`{"api_key":"k","from":"a@example.com","to":["b@example.com"],"base_url":"api.resend.com"}`, "base_url"},
	}
	for _, tt := range tests {
		_, err := resend.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want an error on %s", tt.settings, err, tt.field)
		}
	}
	notifytest.CheckSchema(t, resend.New(), []string{"api_key"}, []string{"base_url"})
}

func TestConformance(t *testing.T) {
	srv := server(t)
	notifytest.Conformance(t, func() sdk.Notifier { return resend.New() }, json.RawMessage(settings(srv.URL)), json.RawMessage(`{"api_key":""}`),
		func(t testing.TB, ev sdk.Event) { notifytest.Contains(t, srv.Last(t), "Event ID: "+ev.ID) })
}
