package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/notifiers/discord/discord"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestConformanceSubprocess(t *testing.T) {
	var mu sync.Mutex
	footers := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m discord.Message
		if r.Method != http.MethodPost || r.URL.Path != "/api/webhooks/1/tok" || r.URL.Query().Get("wait") != "true" ||
			json.NewDecoder(r.Body).Decode(&m) != nil || len(m.Embeds) != 1 {
			t.Errorf("bad request %s %s", r.Method, r.URL)
			http.Error(w, `{"message": "Invalid Form Body"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		footers[m.Embeds[0].Footer.Text] = true
		mu.Unlock()
		w.Write([]byte(`{"id": "1"}`))
	}))
	defer srv.Close()
	settings, _ := json.Marshal(discord.Settings{WebhookURL: srv.URL + "/api/webhooks/1/tok"})
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"webhook_url": "nope"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			mu.Lock()
			defer mu.Unlock()
			for f := range footers {
				if strings.HasSuffix(f, "event "+ev.ID) {
					return
				}
			}
			t.Errorf("event %s did not arrive", ev.ID)
		},
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), discord.New())
	if err != nil || d.ID != discord.ID {
		t.Errorf("Describe = %+v, %v", d, err)
	}
}
