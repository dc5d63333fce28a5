package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/berth-dev/berth/notifiers/gotify/gotify"
	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const token = "AppTok3n.secret"

// checkGotify fails the test on any deviation from Gotify's POST /message.
func checkGotify(t testing.TB, r *http.Request, body []byte) {
	notifytest.Route(t, r, http.MethodPost, "/message")
	notifytest.Header(t, r, "X-Gotify-Key", token)
	notifytest.Header(t, r, "Content-Type", "application/json")
	var m struct {
		Title    *string        `json:"title"`
		Message  *string        `json:"message"`
		Priority *int           `json:"priority"`
		Extras   map[string]any `json:"extras"`
	}
	notifytest.DecodeStrict(t, body, &m)
	if m.Message == nil || *m.Message == "" || m.Title == nil || m.Priority == nil || *m.Priority < 0 || *m.Priority > 10 {
		t.Errorf("message body %s lacks title, message or a priority 0-10", body)
	}
	for k := range m.Extras {
		if k != "client::notification" && k != "berth::event" {
			t.Errorf("unexpected extras namespace %q", k)
		}
	}
}

func server(t *testing.T) *notifytest.Server {
	return notifytest.NewServer(t, checkGotify, `{"id":25,"appid":5,"message":"m","title":"t","priority":2,"date":"2018-02-27T19:36:10.5045044+01:00"}`)
}

func configured(t *testing.T, settings string) *gotify.Notifier {
	n := gotify.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(settings)}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSend(t *testing.T) {
	srv := server(t)
	tests := []struct {
		name     string
		settings string
		event    sdk.Event
		priority int
		wants    []string
	}{
		{"deploy failed", `{"server":"` + srv.URL + `/","token":"` + token + `"}`, plugintest.SampleEvent(sdk.EventDeployFailed), 8,
			[]string{`"title":"plugintest: deploy.failed"`, "Event ID: evt-deploy.failed", "build failed: exit status 1", `"click":{"url":"https://berth.example.test/projects/shop/apps/api"}`, "environment: production"}},
		{"fixed priority", `{"server":"` + srv.URL + `","token":"` + token + `","priority":0}`, plugintest.SampleEvent(sdk.EventThresholdCrossed), 0,
			[]string{"Event ID: evt-threshold.crossed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := configured(t, tt.settings)
			r, err := n.Send(t.Context(), &sdk.SendRequest{Event: tt.event})
			if err != nil {
				t.Fatal(err)
			}
			if r.MessageID != "25" {
				t.Errorf("MessageID = %q, want 25", r.MessageID)
			}
			body := srv.Last(t)
			notifytest.Contains(t, body, tt.wants...)
			var m gotify.Message
			_ = json.Unmarshal(body, &m)
			if m.Priority != tt.priority {
				t.Errorf("priority = %d, want %d", m.Priority, tt.priority)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := server(t)
	n := configured(t, `{"server":"`+srv.URL+`","token":"`+token+`"}`)
	notifytest.CheckErrors(t, srv, func(ctx context.Context) error {
		_, err := n.Send(ctx, &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
		return err
	}, token)
}

func TestConfigure(t *testing.T) {
	tests := []struct{ settings, field string }{
		{`{"token":"x"}`, "server"},
		{`{"server":"ftp://x","token":"x"}`, "server"},
		{`{"server":"https://g.example"}`, "token"},
		{`{"server":"https://g.example","token":"x","priority":11}`, "priority"},
	}
	for _, tt := range tests {
		_, err := gotify.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want an error on %s", tt.settings, err, tt.field)
		}
	}
	notifytest.CheckSchema(t, gotify.New(), []string{"token"}, []string{"server"})
}

func TestConformance(t *testing.T) {
	srv := server(t)
	settings := json.RawMessage(`{"server":"` + srv.URL + `","token":"` + token + `"}`)
	notifytest.Conformance(t, func() sdk.Notifier { return gotify.New() }, settings, json.RawMessage(`{"server":"nope"}`),
		func(t testing.TB, ev sdk.Event) { notifytest.Contains(t, srv.Last(t), "Event ID: "+ev.ID) })
}
