package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/notifiers/teams/teams"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const (
	sig  = "Sig4tureSecr3tValue"
	path = "/workflows/0f1e2d3c/triggers/manual/paths/invoke"
)

// checkTeams fails the test on any deviation from a Workflows webhook
// message with one Adaptive Card attachment.
func checkTeams(t testing.TB, r *http.Request, body []byte) {
	notifytest.Route(t, r, http.MethodPost, path)
	notifytest.Header(t, r, "Content-Type", "application/json")
	if r.URL.Query().Get("sig") != sig {
		t.Errorf("the query lost the signature: %s", r.URL.RawQuery)
	}
	if len(body) > 28<<10 {
		t.Errorf("message of %d bytes, over Teams' 28 KB", len(body))
	}
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Schema  string `json:"$schema"`
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type     string `json:"type"`
					Text     string `json:"text"`
					Weight   string `json:"weight"`
					Size     string `json:"size"`
					Color    string `json:"color"`
					Wrap     bool   `json:"wrap"`
					IsSubtle bool   `json:"isSubtle"`
					Facts    []struct {
						Title string `json:"title"`
						Value string `json:"value"`
					} `json:"facts"`
				} `json:"body"`
				Actions []struct {
					Type  string `json:"type"`
					Title string `json:"title"`
					URL   string `json:"url"`
				} `json:"actions"`
				MSTeams struct {
					Width string `json:"width"`
				} `json:"msteams"`
			} `json:"content"`
		} `json:"attachments"`
	}
	notifytest.DecodeStrict(t, body, &m)
	if m.Type != "message" || len(m.Attachments) != 1 {
		t.Errorf("message %.300s: want type message with one attachment", body)
		return
	}
	a := m.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.Content.Type != "AdaptiveCard" || a.Content.Version == "" || len(a.Content.Body) == 0 {
		t.Errorf("attachment %.300s is not an Adaptive Card", body)
	}
	for _, el := range a.Content.Body {
		if (el.Type != "TextBlock" || el.Text == "") && (el.Type != "FactSet" || len(el.Facts) == 0) {
			t.Errorf("card element %+v", el)
		}
	}
	for _, ac := range a.Content.Actions {
		if ac.Type != "Action.OpenUrl" || ac.URL == "" || ac.Title == "" {
			t.Errorf("card action %+v", ac)
		}
	}
}

func webhook(srv *notifytest.Server) string {
	return srv.URL + path + "?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
}

func configured(t *testing.T, url string) *teams.Notifier {
	n := teams.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"webhook_url":"` + url + `"}`)}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSend(t *testing.T) {
	srv := notifytest.NewServer(t, checkTeams, "")
	n := configured(t, webhook(srv))
	huge := plugintest.SampleEvent(sdk.EventThresholdCrossed)
	huge.Message = strings.Repeat("€", 20000)
	tests := []struct {
		name  string
		event sdk.Event
		wants []string
	}{
		{"deploy failed", plugintest.SampleEvent(sdk.EventDeployFailed), []string{`"color":"Attention"`, `{"title":"Error","value":"build failed: exit status 1"}`,
			`"text":"Event ID: evt-deploy.failed"`, `{"title":"Open in berth","type":"Action.OpenUrl","url":"https://berth.example.test/projects/shop/apps/api"}`}},
		{"cut to 28 KB", huge, []string{`"color":"Warning"`, "…", "Event ID: evt-threshold.crossed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := n.Send(t.Context(), &sdk.SendRequest{Event: tt.event}); err != nil {
				t.Fatal(err)
			}
			notifytest.Contains(t, srv.Last(t), tt.wants...)
		})
	}
}

func TestErrors(t *testing.T) {
	srv := notifytest.NewServer(t, checkTeams, "")
	n := configured(t, webhook(srv))
	notifytest.CheckErrors(t, srv, func(ctx context.Context) error {
		_, err := n.Send(ctx, &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
		return err
	}, sig, path)
}

func TestConfigure(t *testing.T) {
	for _, s := range []string{`{}`, `{"webhook_url":"prod-00.westeurope.logic.azure.com/workflows"}`} {
		_, err := teams.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(s)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != "webhook_url" || strings.Contains(err.Error(), "azure") {
			t.Errorf("Configure(%s) = %v, want an error on webhook_url without the URL", s, err)
		}
	}
	notifytest.CheckSchema(t, teams.New(), []string{"webhook_url"}, []string{"webhook_url"})
}

func TestConformance(t *testing.T) {
	srv := notifytest.NewServer(t, checkTeams, "")
	notifytest.Conformance(t, func() sdk.Notifier { return teams.New() }, json.RawMessage(`{"webhook_url":"`+webhook(srv)+`"}`), json.RawMessage(`{"webhook_url":"x"}`),
		func(t testing.TB, ev sdk.Event) { notifytest.Contains(t, srv.Last(t), "Event ID: "+ev.ID) })
}
