package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// receiver is a local HTTP server standing in for the webhook's target.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	payloads map[string]Payload // by event id
	bad      []string
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{payloads: map[string]Payload{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if got := req.Header.Get(SignatureHeader); got != Sign(secret, body) {
			r.bad = append(r.bad, "bad signature "+got)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/json" || req.Method != http.MethodPost {
			r.bad = append(r.bad, fmt.Sprintf("%s with %s", req.Method, ct))
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err.Error())
		}
		r.payloads[p.ID] = p
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) suite() plugintest.NotifierSuite {
	settings, _ := json.Marshal(map[string]any{"url": r.URL, "secret": "hush", "headers": map[string]string{"X-Team": "ops"}})
	return plugintest.NotifierSuite{
		BaseSuite: plugintest.BaseSuite{Settings: settings, InvalidSettings: json.RawMessage(`{"url": "ftp://nope"}`)},
		Delivered: func(t testing.TB, ev sdk.Event) {
			r.mu.Lock()
			defer r.mu.Unlock()
			p, ok := r.payloads[ev.ID]
			switch {
			case !ok:
				t.Errorf("event %s did not arrive (problems: %v)", ev.ID, r.bad)
			case p.Type != ev.Type || p.Title != ev.Title || !p.Time.Equal(ev.Time):
				t.Errorf("event %s arrived as %+v", ev.ID, p)
			case ev.Deploy != nil && (p.Deploy == nil || *p.Deploy != *ev.Deploy):
				t.Errorf("event %s: deploy details %+v, want %+v", ev.ID, p.Deploy, ev.Deploy)
			case ev.Threshold != nil && (p.Threshold == nil || *p.Threshold != *ev.Threshold):
				t.Errorf("event %s: threshold details %+v, want %+v", ev.ID, p.Threshold, ev.Threshold)
			}
		},
	}
}

func TestConformanceInProcess(t *testing.T) {
	r := newReceiver(t, "hush")
	plugintest.TestNotifier(t, plugintest.Notifier(t, &Webhook{client: http.DefaultClient}), r.suite())
}

func TestConformanceSubprocess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	r := newReceiver(t, "hush")
	bin := plugintest.BuildPlugin(t, ".")
	plugintest.TestNotifier(t, plugintest.Launch(t, bin).(sdk.Notifier), r.suite())
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   error
	}{
		{"unauthorized", http.StatusUnauthorized, sdk.ErrUnauthenticated},
		{"server error", http.StatusBadGateway, sdk.ErrUnavailable},
		{"rate limited", http.StatusTooManyRequests, sdk.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tt.status) }))
			defer srv.Close()
			n := plugintest.Notifier(t, &Webhook{client: http.DefaultClient})
			settings, _ := json.Marshal(map[string]string{"url": srv.URL})
			if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: settings}); err != nil {
				t.Fatal(err)
			}
			_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
			if !errors.Is(err, tt.want) {
				t.Errorf("Send = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("not configured", func(t *testing.T) {
		n := plugintest.Notifier(t, &Webhook{client: http.DefaultClient})
		if _, err := n.TestConnection(t.Context(), &sdk.TestConnectionRequest{}); !errors.Is(err, sdk.ErrNotConfigured) {
			t.Errorf("TestConnection before Configure = %v, want sdk.ErrNotConfigured", err)
		}
	})
}

// TestSettingsSchema checks the hand-written schema describes the settings
// type Configure decodes: one source of truth.
func TestSettingsSchema(t *testing.T) {
	plugintest.CheckSettingsSchema(t, json.RawMessage(schema), settings{})
}
