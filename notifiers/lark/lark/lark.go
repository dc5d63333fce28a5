// Package lark implements notifier.lark: each event is POSTed to a Lark
// (or Feishu) custom bot webhook as an interactive message card (header,
// message, labelled values, a button to the event and the event id) or,
// with msg_type "text", as plain text. With a signing secret set, each
// request carries "timestamp" (Unix seconds) and "sign", the base64 of
// HMAC-SHA256 keyed with "<timestamp>\n<secret>" over an empty message, as
// Lark's custom bot documentation specifies.
//
// Lark answers HTTP 200 with a JSON code: 0 is success, 19021 (bad
// signature or stale timestamp) and 19022 (IP not allowed) are refused
// credentials, 11232 (rate limited) is worth retrying, and other codes are
// invalid requests. Request bodies must stay under 20 KB.
package lark

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/eventtext"
	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// MaxBodyBytes is the size a request body must stay under (Lark: 20 KB).
const MaxBodyBytes = 19 << 10

// MaxMessage is the most runes of a message before size fitting.
const MaxMessage = 8000

// Message types.
const (
	TypeInteractive = "interactive"
	TypeText        = "text"
)

// Lark's answer codes berth acts on.
const (
	codeSignature   = 19021
	codeIPForbidden = 19022
	codeRateLimited = 11232
)

// Settings are the plugin's settings.
type Settings struct {
	// WebhookURL is the bot's webhook URL; it holds a secret.
	WebhookURL string `json:"webhook_url" jsonschema:"required,title=Webhook URL,format=uri,writeOnly=true" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Webhook URL of the group's custom bot (https://open.larksuite.com/open-apis/bot/v2/hook/... or https://open.feishu.cn/...). It holds a secret."`
	// Secret is the bot's signature verification secret.
	Secret string `json:"secret,omitempty" jsonschema:"title=Signing secret,writeOnly=true" jsonschema_description:"The bot's signature verification secret, when 'Set signature verification' is on."`
	// MsgType is "interactive" (a card, the default) or "text".
	MsgType string `json:"msg_type,omitempty" jsonschema:"title=Message type,enum=interactive,enum=text,default=interactive" jsonschema_description:"interactive: a message card; text: plain text."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Lark", "Posts events to a Lark or Feishu group through a custom bot."))

// Notifier is the Lark notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client httpsend.Client
	now    func() time.Time

	mu sync.RWMutex
	s  *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{
		client: httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-lark/" + Version},
		now:    time.Now,
	}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.lark", Version: Version, Description: "Posts events to Lark (Feishu) through a custom bot webhook."}, nil
}

// ConfigSchema returns the settings schema.
func (n *Notifier) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema}, nil
}

// Configure checks and keeps the settings.
func (n *Notifier) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	if msg := httpsend.CheckURL(s.WebhookURL); msg != "" {
		errs.Add("webhook_url", msg)
	}
	switch s.MsgType {
	case "":
		s.MsgType = TypeInteractive
	case TypeInteractive, TypeText:
	default:
		errs.Add("msg_type", "must be interactive or text")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.s = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Sign returns the "sign" of a request at timestamp (Unix seconds).
func Sign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Request is the webhook's body.
type Request struct {
	Timestamp string         `json:"timestamp,omitempty"`
	Sign      string         `json:"sign,omitempty"`
	MsgType   string         `json:"msg_type"`
	Content   map[string]any `json:"content,omitempty"`
	Card      map[string]any `json:"card,omitempty"`
}

func text(s string) map[string]any { return map[string]any{"tag": "plain_text", "content": s} }

// Card returns the message card of ev with its message cut to limit runes.
func Card(ev sdk.Event, limit int) map[string]any {
	tmpl := map[sdk.Severity]string{sdk.SeverityError: "red", sdk.SeverityWarning: "orange"}[ev.Severity]
	if tmpl == "" {
		tmpl = "blue"
	}
	elements := []any{map[string]any{"tag": "div", "text": text(httpsend.Truncate(ev.Message, limit))}}
	if fs := eventview.Fields(ev); len(fs) > 0 {
		fields := make([]any, len(fs))
		for i, f := range fs {
			fields[i] = map[string]any{"is_short": !f.Long, "text": text(f.Name + ": " + httpsend.Truncate(f.Value, 1000))}
		}
		elements = append(elements, map[string]any{"tag": "div", "fields": fields})
	}
	if ev.URL != "" {
		elements = append(elements, map[string]any{"tag": "action", "actions": []any{
			map[string]any{"tag": "button", "text": text("Open in berth"), "type": "primary", "url": ev.URL},
		}})
	}
	elements = append(elements, map[string]any{"tag": "note", "elements": []any{text(eventtext.IDLine(ev))}})
	return map[string]any{
		"config":   map[string]any{"wide_screen_mode": true},
		"header":   map[string]any{"template": tmpl, "title": text(httpsend.Truncate(ev.Title, 500))},
		"elements": elements,
	}
}

// Encode renders ev as the webhook's body for settings s at time now,
// within MaxBodyBytes.
func Encode(s *Settings, ev sdk.Event, now time.Time) ([]byte, error) {
	for limit := MaxMessage; ; limit /= 2 {
		r := Request{MsgType: s.MsgType}
		if s.Secret != "" {
			ts := now.Unix()
			r.Timestamp, r.Sign = strconv.FormatInt(ts, 10), Sign(s.Secret, ts)
		}
		if s.MsgType == TypeText {
			r.Content = map[string]any{"text": ev.Title + "\n" + eventtext.PlainLimit(ev, limit)}
		} else {
			r.Card = Card(ev, limit)
		}
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		if len(b) <= MaxBodyBytes || limit == 0 {
			return b, nil
		}
	}
}

// Send posts the event.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	if err := n.send(ctx, req.Event); err != nil {
		return nil, err
	}
	return &sdk.SendResponse{}, nil
}

// TestConnection posts a test message.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if err := n.send(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "The Lark bot accepted a test message."}, nil
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) error {
	n.mu.RLock()
	s := n.s
	n.mu.RUnlock()
	if s == nil {
		return sdk.ErrNotConfigured
	}
	body, err := Encode(s, ev, n.now())
	if err != nil {
		return err
	}
	_, rbody, err := n.client.PostBody(ctx, s.WebhookURL, "application/json; charset=utf-8", body, nil)
	if err != nil {
		return fmt.Errorf("posting event %s to Lark: %w", ev.ID, err)
	}
	return answerError(ev.ID, rbody)
}

// answerError maps the code of Lark's 200 answer to an error.
func answerError(eventID string, body []byte) error {
	var ans struct {
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
		StatusMsg  string `json:"StatusMessage"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("posting event %s to Lark: unreadable answer: %w", eventID, sdk.ErrUnavailable)
	}
	code, msg := 0, ans.Msg
	switch {
	case ans.Code != nil:
		code = *ans.Code
	case ans.StatusCode != nil:
		code, msg = *ans.StatusCode, ans.StatusMsg
	}
	msg = httpsend.Truncate(msg, 200)
	switch code {
	case 0:
		return nil
	case codeSignature, codeIPForbidden:
		return fmt.Errorf("posting event %s to Lark: code %d: %s: %w", eventID, code, msg, sdk.ErrUnauthenticated)
	case codeRateLimited:
		return fmt.Errorf("posting event %s to Lark: code %d: %s: %w", eventID, code, msg, sdk.ErrUnavailable)
	default:
		return fmt.Errorf("posting event %s to Lark: code %d: %s: %w", eventID, code, msg, sdk.ErrInvalidArgument)
	}
}
