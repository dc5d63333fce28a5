package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/notifiers/mattermost/mattermost"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestConformanceSubprocess(t *testing.T) {
	var mu sync.Mutex
	var footers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p mattermost.Payload
		if r.Method != http.MethodPost || r.URL.Path != "/hooks/key" || json.NewDecoder(r.Body).Decode(&p) != nil || len(p.Attachments) != 1 {
			t.Errorf("bad request %s %s", r.Method, r.URL)
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		footers = append(footers, p.Attachments[0].Footer)
		mu.Unlock()
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	settings, _ := json.Marshal(mattermost.Settings{WebhookURL: srv.URL + "/hooks/key"})
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"webhook_url": "nope"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			mu.Lock()
			defer mu.Unlock()
			if len(footers) == 0 || !strings.HasSuffix(footers[len(footers)-1], "event "+ev.ID) {
				t.Errorf("event %s did not arrive", ev.ID)
			}
		},
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), mattermost.New())
	if err != nil || d.ID != mattermost.ID {
		t.Errorf("Describe = %+v, %v", d, err)
	}
}
