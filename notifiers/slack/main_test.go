package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/berth-dev/berth/notifiers/slack/slack"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestConformanceSubprocess(t *testing.T) {
	var mu sync.Mutex
	var texts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m slack.Message
		if r.Method != http.MethodPost || r.URL.Path != "/services/T/B/x" || json.NewDecoder(r.Body).Decode(&m) != nil || len(m.Blocks) == 0 {
			t.Errorf("bad request %s %s", r.Method, r.URL.Path)
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		texts = append(texts, m.Text)
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	settings, _ := json.Marshal(slack.Settings{WebhookURL: srv.URL + "/services/T/B/x"})
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"webhook_url": "nope"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			mu.Lock()
			defer mu.Unlock()
			if len(texts) == 0 || texts[len(texts)-1] != slack.Render(ev).Text {
				t.Errorf("event %s did not arrive", ev.ID)
			}
		},
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), slack.New())
	if err != nil || d.ID != slack.ID {
		t.Errorf("Describe = %+v, %v", d, err)
	}
}
