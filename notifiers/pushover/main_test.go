package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/notifiers/pushover/pushover"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const (
	token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
	user  = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
)

// known are the parameters of messages.json berth may send.
var known = map[string]bool{"token": true, "user": true, "message": true, "title": true, "url": true, "url_title": true,
	"priority": true, "retry": true, "expire": true, "device": true, "sound": true, "timestamp": true}

// checkPushover fails the test on any deviation from Pushover's
// POST /1/messages.json: parameters, limits, priority 2's retry/expire.
func checkPushover(t testing.TB, r *http.Request, body []byte) {
	notifytest.Route(t, r, http.MethodPost, "/1/messages.json")
	notifytest.Header(t, r, "Content-Type", "application/x-www-form-urlencoded")
	f, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("form %s: %v", body, err)
		return
	}
	for k, vs := range f {
		if !known[k] || len(vs) != 1 {
			t.Errorf("parameter %s=%v is not one of messages.json's", k, vs)
		}
	}
	if f.Get("token") != token || f.Get("user") != user || f.Get("message") == "" {
		t.Errorf("form lacks token, user or message: %v", f)
	}
	for k, max := range map[string]int{"title": 250, "message": 1024, "url": 512, "url_title": 100} {
		if n := utf8.RuneCountInString(f.Get(k)); n > max {
			t.Errorf("%s has %d characters, more than %d", k, n, max)
		}
	}
	p, err := strconv.Atoi(f.Get("priority"))
	if err != nil || p < -2 || p > 2 {
		t.Errorf("priority %q", f.Get("priority"))
	}
	retry, _ := strconv.Atoi(f.Get("retry"))
	expire, _ := strconv.Atoi(f.Get("expire"))
	if p == 2 && (retry < 30 || expire < 1 || expire > 10800) {
		t.Errorf("priority 2 with retry %q and expire %q", f.Get("retry"), f.Get("expire"))
	}
}

func server(t *testing.T) *notifytest.Server {
	return notifytest.NewServer(t, checkPushover, `{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}`)
}

func settings(url, extra string) string {
	return `{"token":"` + token + `","user":"` + user + `","base_url":"` + url + `"` + extra + `}`
}

func configured(t *testing.T, s string) *pushover.Notifier {
	n := pushover.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(s)}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSend(t *testing.T) {
	srv := server(t)
	long := plugintest.SampleEvent(sdk.EventDeployFailed)
	long.Title = strings.Repeat("t", 300)
	long.Message = strings.Repeat("m", 2000)
	long.URL = "https://berth.example.test/" + strings.Repeat("u", 600)
	tests := []struct {
		name, extra string
		event       sdk.Event
		want        url.Values
	}{
		{"error", "", plugintest.SampleEvent(sdk.EventDeployFailed),
			url.Values{"priority": {"1"}, "title": {"plugintest: deploy.failed"}, "url": {"https://berth.example.test/projects/shop/apps/api"}, "timestamp": {"1735787045"}}},
		{"emergency", `,"priority":2,"retry":60,"expire":3600,"device":"phone","sound":"siren"`, plugintest.SampleEvent(sdk.EventTest),
			url.Values{"priority": {"2"}, "retry": {"60"}, "expire": {"3600"}, "device": {"phone"}, "sound": {"siren"}}},
		{"limits", "", long, url.Values{"title": {strings.Repeat("t", 249) + "…"}, "url": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := configured(t, settings(srv.URL, tt.extra)).Send(t.Context(), &sdk.SendRequest{Event: tt.event})
			if err != nil {
				t.Fatal(err)
			}
			if r.MessageID != "647d2300-702c-4b38-8b2f-d56326ae460b" {
				t.Errorf("MessageID = %q", r.MessageID)
			}
			f, _ := url.ParseQuery(string(srv.Last(t)))
			for k, v := range tt.want {
				if strings.Join(f[k], ",") != strings.Join(v, ",") {
					t.Errorf("%s = %q, want %q", k, f[k], v)
				}
			}
			if !strings.HasSuffix(f.Get("message"), "Event ID: "+tt.event.ID) {
				t.Errorf("message %q does not end with the event id", f.Get("message"))
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := server(t)
	n := configured(t, settings(srv.URL, ""))
	notifytest.CheckErrors(t, srv, func(ctx context.Context) error {
		_, err := n.Send(ctx, &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
		return err
	}, token, user)
}

func TestConfigure(t *testing.T) {
	ok := `"token":"` + token + `","user":"` + user + `"`
	tests := []struct{ settings, field string }{
		{`{"user":"` + user + `"}`, "token"},
		{`{"token":"` + token + `","user":"short"}`, "user"},
		{`{` + ok + `,"priority":3}`, "priority"},
		{`{` + ok + `,"priority":2,"expire":60}`, "retry"},
		{`{` + ok + `,"priority":2,"retry":30}`, "expire"},
		{`{` + ok + `,"priority":2,"retry":30,"expire":10801}`, "expire"},
		{`{` + ok + `,"base_url":"x"}`, "base_url"},
	}
	for _, tt := range tests {
		_, err := pushover.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want an error on %s", tt.settings, err, tt.field)
		}
	}
	notifytest.CheckSchema(t, pushover.New(), []string{"token", "user"}, []string{"base_url"})
}

func TestConformance(t *testing.T) {
	srv := server(t)
	notifytest.Conformance(t, func() sdk.Notifier { return pushover.New() }, json.RawMessage(settings(srv.URL, "")), json.RawMessage(`{"token":"x"}`),
		func(t testing.TB, ev sdk.Event) {
			notifytest.Contains(t, srv.Last(t), url.QueryEscape("Event ID: "+ev.ID))
		})
}
