package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/notifytest"
	"github.com/berth-dev/berth/notifiers/lark/lark"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

const (
	secret   = "s3cr3tSigningKey"
	hookPath = "/open-apis/bot/v2/hook/8d3b1a2c-hooktoken"
	ok       = `{"code":0,"data":{},"msg":"success"}`
)

// checkLark fails the test on any deviation from Lark's custom bot
// webhook: body shape, msg_type, and (when signing) a timestamp within the
// hour with sign = base64(HMAC-SHA256 keyed "timestamp\nsecret" over "").
func checkLark(signed bool, msgType string) notifytest.CheckFunc {
	return func(t testing.TB, r *http.Request, body []byte) {
		notifytest.Route(t, r, http.MethodPost, hookPath)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type %q", ct)
		}
		if len(body) > 20<<10 {
			t.Errorf("body of %d bytes, over Lark's 20 KB", len(body))
		}
		var req struct {
			Timestamp string `json:"timestamp"`
			Sign      string `json:"sign"`
			MsgType   string `json:"msg_type"`
			Content   *struct {
				Text string `json:"text"`
			} `json:"content"`
			Card *struct {
				Config map[string]bool `json:"config"`
				Header struct {
					Template string `json:"template"`
					Title    struct {
						Tag     string `json:"tag"`
						Content string `json:"content"`
					} `json:"title"`
				} `json:"header"`
				Elements []map[string]json.RawMessage `json:"elements"`
			} `json:"card"`
		}
		notifytest.DecodeStrict(t, body, &req)
		if req.MsgType != msgType || (msgType == "text") != (req.Content != nil && req.Content.Text != "") || (msgType == "interactive") != (req.Card != nil) {
			t.Errorf("body %.300s is not a %s message", body, msgType)
		}
		if req.Card != nil {
			if req.Card.Header.Title.Tag != "plain_text" || req.Card.Header.Title.Content == "" || len(req.Card.Elements) == 0 {
				t.Errorf("card %.300s lacks a header title or elements", body)
			}
			for _, el := range req.Card.Elements {
				var tag string
				_ = json.Unmarshal(el["tag"], &tag)
				if tag != "div" && tag != "action" && tag != "note" {
					t.Errorf("card element with tag %q", tag)
				}
			}
		}
		if !signed {
			if req.Timestamp != "" || req.Sign != "" {
				t.Errorf("unsigned settings sent timestamp %q sign %q", req.Timestamp, req.Sign)
			}
			return
		}
		ts, err := strconv.ParseInt(req.Timestamp, 10, 64)
		if err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Hour {
			t.Errorf("timestamp %q is not within an hour of now", req.Timestamp)
		}
		mac := hmac.New(sha256.New, []byte(req.Timestamp+"\n"+secret))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); req.Sign != want {
			t.Errorf("sign %q, want %q", req.Sign, want)
		}
	}
}

func settings(url, extra string) string {
	return `{"webhook_url":"` + url + hookPath + `"` + extra + `}`
}

func configured(t *testing.T, s string) *lark.Notifier {
	n := lark.New()
	if _, err := n.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(s)}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSend(t *testing.T) {
	huge := plugintest.SampleEvent(sdk.EventBackupFailed)
	huge.Message = strings.Repeat("飞", 30000)
	tests := []struct {
		name, extra, msgType string
		signed               bool
		event                sdk.Event
		wants                []string
	}{
		{"card, signed", `,"secret":"` + secret + `"`, "interactive", true, plugintest.SampleEvent(sdk.EventDeployFailed),
			[]string{`"template":"red"`, `"url":"https://berth.example.test/projects/shop/apps/api"`, "Event ID: evt-deploy.failed", "Error: build failed"}},
		{"text", `,"msg_type":"text"`, "text", false, plugintest.SampleEvent(sdk.EventCleanupDone),
			[]string{`"text":"plugintest: cleanup.done\n`, "Event ID: evt-cleanup.done"}},
		{"card cut to 20 KB", "", "interactive", false, huge, []string{"…", "Event ID: evt-backup.failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.NewServer(t, checkLark(tt.signed, tt.msgType), ok)
			if _, err := configured(t, settings(srv.URL, tt.extra)).Send(t.Context(), &sdk.SendRequest{Event: tt.event}); err != nil {
				t.Fatal(err)
			}
			notifytest.Contains(t, srv.Last(t), tt.wants...)
		})
	}
}

func TestSign(t *testing.T) {
	// base64(HMAC-SHA256(key "1599360473\nsecret", "")), computed with Python's hmac and with
	// printf "" | openssl dgst -sha256 -hmac "$(printf '1599360473\nsecret')" -binary | base64
	if got := lark.Sign("secret", 1599360473); got != "q4jswNiMy51J5JuQV566yJat0/lQ/c+22kINzUgKsGU=" {
		t.Errorf("Sign = %q", got)
	}
}

func TestErrors(t *testing.T) {
	srv := notifytest.NewServer(t, checkLark(true, "interactive"), ok)
	n := configured(t, settings(srv.URL, `,"secret":"`+secret+`"`))
	send := func(ctx context.Context) error {
		_, err := n.Send(ctx, &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
		return err
	}
	notifytest.CheckErrors(t, srv, send, secret, "hooktoken")
	// Lark reports most failures as codes in a 200 answer.
	codes := []struct {
		answer string
		want   error
	}{
		{`{"code":19021,"data":{},"msg":"sign match fail or timestamp is not within one hour from current time"}`, sdk.ErrUnauthenticated},
		{`{"code":11232,"data":{},"msg":"frequency limited psm"}`, sdk.ErrUnavailable},
		{`{"code":9499,"data":{},"msg":"Bad Request"}`, sdk.ErrInvalidArgument},
		{`{"StatusCode":0,"StatusMessage":"success"}`, nil},
	}
	for _, c := range codes {
		srv := notifytest.NewServer(t, checkLark(false, "interactive"), c.answer)
		err := send2(t, configured(t, settings(srv.URL, "")))
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("answer %s: error %v, want %v", c.answer, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "hooktoken") {
			t.Errorf("error %q holds the webhook URL", err)
		}
	}
}

func send2(t *testing.T, n *lark.Notifier) error {
	_, err := n.Send(t.Context(), &sdk.SendRequest{Event: plugintest.SampleEvent(sdk.EventTest)})
	return err
}

func TestConfigure(t *testing.T) {
	tests := []struct{ settings, field string }{
		{`{}`, "webhook_url"},
		{`{"webhook_url":"open.larksuite.com/x"}`, "webhook_url"},
		{`{"webhook_url":"https://open.larksuite.com/x","msg_type":"post"}`, "msg_type"},
	}
	for _, tt := range tests {
		_, err := lark.New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Fields[0].Field != tt.field {
			t.Errorf("Configure(%s) = %v, want an error on %s", tt.settings, err, tt.field)
		}
	}
	notifytest.CheckSchema(t, lark.New(), []string{"webhook_url", "secret"}, []string{"webhook_url"})
}

func TestConformance(t *testing.T) {
	srv := notifytest.NewServer(t, checkLark(true, "interactive"), ok)
	notifytest.Conformance(t, func() sdk.Notifier { return lark.New() }, json.RawMessage(settings(srv.URL, `,"secret":"`+secret+`"`)), json.RawMessage(`{"webhook_url":""}`),
		func(t testing.TB, ev sdk.Event) { notifytest.Contains(t, srv.Last(t), "Event ID: "+ev.ID) })
}
