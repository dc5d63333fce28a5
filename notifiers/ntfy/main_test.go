package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/notifiers/ntfy/ntfy"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"

// checkNtfy fails the test on any deviation from ntfy's JSON publishing:
// POST to the root, topic in the body, valid priority, message in the
// size limit, and the Authorization the settings ask for (auth says which).
func checkNtfy(auth string) notifytest.CheckFunc {
	return func(t testing.TB, r *http.Request, body []byte) {
		notifytest.Route(t, r, http.MethodPost, "/")
		notifytest.Header(t, r, "Content-Type", "application/json")
		notifytest.Header(t, r, "Authorization", auth)
		var m struct {
			Topic    string   `json:"topic"`
			Title    string   `json:"title"`
			Message  string   `json:"message"`
			Priority int      `json:"priority"`
			Tags     []string `json:"tags"`
			Click    string   `json:"click"`
		}
		notifytest.DecodeStrict(t, body, &m)
		if m.Topic != "berth-alerts" || m.Message == "" || len(m.Message) > 4096 || m.Priority < 1 || m.Priority > 5 || !utf8.ValidString(m.Message) {
			t.Errorf("publish body %.300s: wrong topic, empty or oversized message or priority out of 1-5", body)
		}
	}
}

func settings(url, extra string) string {
	return `{"server":"` + url + `","topic":"berth-alerts"` + extra + `}`
}

func configured(t *testing.T, s string) *ntfy.Notifier {
	n := ntfy.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(s)}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSend(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:pa ss"))
	long := plugintest.SampleEvent(sdk.EventDeployFailed)
	long.Message = strings.Repeat("é", 5000)
	tests := []struct {
		name, auth, extra string
		event             sdk.Event
		wants             []string
		priority          int
	}{
		{"token", "Bearer " + token, `,"token":"` + token + `","tags":["prod"]`, plugintest.SampleEvent(sdk.EventDeployFailed),
			[]string{`"tags":["rotating_light","prod"]`, `"click":"https://berth.example.test/projects/shop/apps/api"`, "Event ID: evt-deploy.failed", `"title":"plugintest: deploy.failed"`}, 5},
		{"basic", basic, `,"username":"ops","password":"pa ss","priority":1`, plugintest.SampleEvent(sdk.EventThresholdCrossed),
			[]string{"Event ID: evt-threshold.crossed"}, 1},
		{"anonymous, cut to 4096 bytes", "", "", long, []string{"…", "Event ID: evt-deploy.failed"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.NewServer(t, checkNtfy(tt.auth), `{"id":"sPs71M8A2T","time":1643138845,"event":"message","topic":"berth-alerts","message":"x"}`)
			r, err := configured(t, settings(srv.URL, tt.extra)).Send(t.Context(), &sdk.SendRequest{Event: tt.event})
			if err != nil {
				t.Fatal(err)
			}
			if r.MessageID != "sPs71M8A2T" {
				t.Errorf("MessageID = %q", r.MessageID)
			}
			notifytest.Contains(t, srv.Last(t), tt.wants...)
			var m ntfy.Message
			_ = json.Unmarshal(srv.Last(t), &m)
			if m.Priority != tt.priority {
				t.Errorf("priority %d, want %d", m.Priority, tt.priority)
			}
			if tt.event.Message == long.Message && len(m.Message) < 4090 {
				t.Errorf("message cut to %d bytes, want close to 4096", len(m.Message))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := notifytest.NewServer(t, checkNtfy("Bearer "+token), `{"id":"x"}`)
	n := configured(t, settings(srv.URL, `,"token":"`+token+`"`))
	notifytest.CheckErrors(t, srv, func(ctx context.Context) error {
		_, err := n.Send(ctx, &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
		return err
	}, token)
}

func TestConfigure(t *testing.T) {
	tests := []struct{ settings, field string }{
		{`{}`, "topic"},
		{`{"topic":"a/b"}`, "topic"},
		{`{"topic":"t","server":"ntfy.sh"}`, "server"},
		{`{"topic":"t","token":"tk","username":"u","password":"p"}`, "token"},
		{`{"topic":"t","username":"u"}`, "password"},
		{`{"topic":"t","priority":6}`, "priority"},
		{`{"topic":"t","tags":["a,b"]}`, "tags[0]"},
	}
	for _, tt := range tests {
		_, err := ntfy.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want an error on %s", tt.settings, err, tt.field)
		}
	}
	notifytest.CheckSchema(t, ntfy.New(), []string{"token", "password"}, []string{"server"})
}

func TestConformance(t *testing.T) {
	srv := notifytest.NewServer(t, checkNtfy("Bearer "+token), `{"id":"x"}`)
	notifytest.Conformance(t, func() sdk.Notifier { return ntfy.New() }, json.RawMessage(settings(srv.URL, `,"token":"`+token+`"`)), json.RawMessage(`{"topic":""}`),
		func(t testing.TB, ev sdk.Event) { notifytest.Contains(t, srv.Last(t), "Event ID: "+ev.ID) })
}
