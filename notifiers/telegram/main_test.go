package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/notifiers/telegram/telegram"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const token = "42:ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdef"

func TestConformanceSubprocess(t *testing.T) {
	var mu sync.Mutex
	var texts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req telegram.Request
		if r.Method != http.MethodPost || r.URL.Path != "/bot"+token+"/sendMessage" || json.NewDecoder(r.Body).Decode(&req) != nil || req.ParseMode != "HTML" {
			t.Errorf("bad request %s %s", r.Method, r.URL.Path)
			http.Error(w, `{"ok":false}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		texts = append(texts, req.Text)
		mu.Unlock()
		fmt.Fprint(w, `{"ok":true,"result":{"message_id":1}}`)
	}))
	defer srv.Close()
	settings, _ := json.Marshal(telegram.Settings{BotToken: token, ChatID: "@berth_alerts", BaseURL: srv.URL})
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"bot_token": "x", "chat_id": "1"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			mu.Lock()
			defer mu.Unlock()
			if len(texts) == 0 || !strings.HasSuffix(texts[len(texts)-1], "event "+ev.ID+"</i>") {
				t.Errorf("event %s did not arrive", ev.ID)
			}
		},
	})
}

func TestDescribe(t *testing.T) {
	d, err := sdk.Describe(t.Context(), telegram.New())
	if err != nil || d.ID != telegram.ID {
		t.Errorf("Describe = %+v, %v", d, err)
	}
}
