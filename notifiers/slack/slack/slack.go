// Package slack implements notifier.slack: events are posted to a Slack
// incoming webhook as Block Kit messages (header, message, fields, a context
// line with severity, link and event id) with a plain fallback text for
// notifications, within Slack's documented limits.
package slack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin's id.
const ID = "notifier.slack"

// Version is the plugin's version.
const Version = "1.0.0"

// Slack's Block Kit limits, in characters.
const (
	MaxHeaderText   = 150
	MaxSectionText  = 3000
	MaxFieldText    = 2000
	MaxFields       = 10
	MaxContextItems = 10
	MaxBlocks       = 50
	// MaxFallbackText bounds the top-level text; Slack accepts 40,000
	// but notifications show far less.
	MaxFallbackText = 3000
)

// Settings are the plugin's settings.
type Settings struct {
	WebhookURL string `json:"webhook_url" jsonschema:"required,title=Webhook URL,format=uri,writeOnly=true" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"The incoming webhook's URL (https://hooks.slack.com/services/...). It is a secret: anyone with it can post to the channel."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Slack", "Posts events to a Slack channel through an incoming webhook."))

// Notifier is the Slack notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client *httpsend.Client

	mu       sync.RWMutex
	settings *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: &httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-slack/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: ID, Version: Version, Description: "Posts events to a Slack channel through an incoming webhook."}, nil
}

// ConfigSchema returns the settings schema.
func (n *Notifier) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema}, nil
}

// Configure validates and applies the settings.
func (n *Notifier) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	if msg := httpsend.CheckURL(s.WebhookURL); msg != "" {
		return nil, sdk.NewConfigError("webhook_url", msg)
	}
	n.mu.Lock()
	n.settings = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Send posts the event.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	if err := n.post(ctx, req.Event); err != nil {
		return nil, err
	}
	return &sdk.SendResponse{}, nil
}

// TestConnection posts a test message.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if err := n.post(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "Slack accepted a test message."}, nil
}

func (n *Notifier) post(ctx context.Context, ev sdk.Event) error {
	n.mu.RLock()
	s := n.settings
	n.mu.RUnlock()
	if s == nil {
		return fmt.Errorf("sending event %s: %w", ev.ID, sdk.ErrNotConfigured)
	}
	if _, _, err := n.client.PostJSON(ctx, s.WebhookURL, Render(ev), nil); err != nil {
		return fmt.Errorf("sending event %s to Slack: %w", ev.ID, err)
	}
	return nil
}

// Message is an incoming webhook's payload.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit layout block (header, section, context).
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// Escape escapes the characters Slack's mrkdwn reserves: &, < and >.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func mrkdwn(s string, limit int) Text {
	return Text{Type: "mrkdwn", Text: httpsend.TruncateEscaped(s, limit, Escape)}
}

var severityEmoji = map[sdk.Severity]string{
	sdk.SeverityError:   ":red_circle:",
	sdk.SeverityWarning: ":warning:",
	sdk.SeverityInfo:    ":large_blue_circle:",
}

// Render builds the message for ev.
func Render(ev sdk.Event) Message {
	emoji := severityEmoji[ev.Severity]
	if emoji == "" {
		emoji = severityEmoji[sdk.SeverityInfo]
	}
	blocks := []Block{{Type: "header", Text: &Text{Type: "plain_text", Text: httpsend.Truncate(emoji+" "+ev.Title, MaxHeaderText), Emoji: true}}}
	if ev.Message != "" {
		t := mrkdwn(ev.Message, MaxSectionText)
		blocks = append(blocks, Block{Type: "section", Text: &t})
	}
	var short []Text
	flush := func() {
		if len(short) > 0 {
			blocks = append(blocks, Block{Type: "section", Fields: short})
			short = nil
		}
	}
	for _, f := range eventview.Fields(ev) {
		// Leave room for the context block and the blocks after it.
		if len(blocks) >= MaxBlocks-2 {
			break
		}
		name := "*" + Escape(httpsend.Truncate(f.Name, 100)) + "*\n"
		if f.Long {
			flush()
			t := Text{Type: "mrkdwn", Text: name + httpsend.TruncateEscaped(f.Value, MaxSectionText-httpsend.RuneLen(name), Escape)}
			blocks = append(blocks, Block{Type: "section", Text: &t})
			continue
		}
		short = append(short, Text{Type: "mrkdwn", Text: name + httpsend.TruncateEscaped(f.Value, MaxFieldText-httpsend.RuneLen(name), Escape)})
		if len(short) == MaxFields {
			flush()
		}
	}
	flush()
	ctx := []Text{{Type: "mrkdwn", Text: eventview.SeverityLabel(ev.Severity)}}
	if ev.URL != "" && !strings.ContainsAny(ev.URL, "<>|") {
		ctx = append(ctx, Text{Type: "mrkdwn", Text: "<" + ev.URL + "|Open in berth>"})
	}
	if !ev.Time.IsZero() {
		// Slack renders the date in the reader's time zone.
		ctx = append(ctx, Text{Type: "mrkdwn", Text: fmt.Sprintf("<!date^%d^{date_short_pretty} {time_secs}|%s>", ev.Time.Unix(), ev.Time.UTC().Format(time.RFC3339))})
	}
	ctx = append(ctx, mrkdwn("Event "+ev.ID, 300))
	blocks = append(blocks, Block{Type: "context", Elements: ctx})
	fallback := ev.Title
	if ev.Message != "" {
		fallback += ": " + ev.Message
	}
	suffix := " (event " + ev.ID + ")"
	text := httpsend.TruncateEscaped(fallback, MaxFallbackText-httpsend.RuneLen(Escape(suffix)), Escape) + Escape(suffix)
	return Message{Text: text, Blocks: blocks}
}
