package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/berth-dev/berth/notifiers/webhook/webhook"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestConformanceSubprocess(t *testing.T) {
	got := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify("hush", body, r.Header.Get(webhook.SignatureHeader)) {
			t.Errorf("bad signature")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got[r.Header.Get(webhook.DeliveryHeader)] = true
	}))
	defer srv.Close()
	settings, _ := json.Marshal(webhook.Settings{URL: srv.URL, Secret: "hush"})
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"url": "ftp://nope"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			if !got[ev.ID] {
				t.Errorf("event %s did not arrive", ev.ID)
			}
		},
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), webhook.New())
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != webhook.ID || len(d.ConfigSchema) == 0 {
		t.Errorf("Describe = %s with schema %s", d.ID, d.ConfigSchema)
	}
}
