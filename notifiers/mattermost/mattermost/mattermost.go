// Package mattermost implements notifier.mattermost: events are posted to a
// Mattermost incoming webhook, as a message attachment coloured by severity
// (the default) or as plain Markdown text, within Mattermost's post size
// limit, with @-mentions neutralised.
package mattermost

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin's id.
const ID = "notifier.mattermost"

// Version is the plugin's version.
const Version = "1.0.0"

// Limits, in characters. Mattermost refuses posts whose message exceeds
// 16383 characters (the default maximum post size); attachments count
// towards the post's properties, so berth keeps each part well within it.
const (
	MaxMessage        = 16383
	MaxAttachmentText = 8000
	MaxTitle          = 256
	MaxFieldValue     = 1000
	MaxFields         = 25
)

// Styles of message.
const (
	StyleAttachment = "attachment"
	StyleText       = "text"
)

// Settings are the plugin's settings.
type Settings struct {
	WebhookURL string `json:"webhook_url" jsonschema:"required,title=Webhook URL,format=uri,writeOnly=true" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"The incoming webhook's URL (https://<server>/hooks/<key>). It is a secret: anyone with it can post to the channel."`
	Style      string `json:"style,omitempty" jsonschema:"title=Message style,enum=attachment,enum=text,default=attachment" jsonschema_description:"attachment: a message attachment coloured by severity, with fields. text: one Markdown message."`
	Channel    string `json:"channel,omitempty" jsonschema:"title=Channel" jsonschema_description:"Channel name to post in instead of the webhook's (if the webhook allows it). Empty: the webhook's channel."`
	Username   string `json:"username,omitempty" jsonschema:"title=Username" jsonschema_description:"Name to post as (if the server allows overriding it). Empty: the webhook's."`
	IconURL    string `json:"icon_url,omitempty" jsonschema:"title=Icon URL,format=uri" jsonschema_description:"Profile picture to post with (if the server allows overriding it)."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Mattermost", "Posts events to a Mattermost channel through an incoming webhook."))

// Notifier is the Mattermost notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client *httpsend.Client

	mu       sync.RWMutex
	settings *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: &httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-mattermost/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: ID, Version: Version, Description: "Posts events to a Mattermost channel through an incoming webhook."}, nil
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
	var errs sdk.ConfigError
	if msg := httpsend.CheckURL(s.WebhookURL); msg != "" {
		errs.Add("webhook_url", msg)
	}
	switch s.Style {
	case "":
		s.Style = StyleAttachment
	case StyleAttachment, StyleText:
	default:
		errs.Add("style", `must be "attachment" or "text"`)
	}
	if s.IconURL != "" && httpsend.CheckURL(s.IconURL) != "" {
		errs.Add("icon_url", "must be an http or https URL")
	}
	if strings.ContainsAny(s.Channel, " \t\r\n") {
		errs.Add("channel", "must be a channel name (no spaces)")
	}
	if err := errs.Err(); err != nil {
		return nil, err
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
	return &sdk.TestConnectionResponse{Message: "Mattermost accepted a test message."}, nil
}

func (n *Notifier) post(ctx context.Context, ev sdk.Event) error {
	n.mu.RLock()
	s := n.settings
	n.mu.RUnlock()
	if s == nil {
		return fmt.Errorf("sending event %s: %w", ev.ID, sdk.ErrNotConfigured)
	}
	p := Render(ev, s.Style)
	p.Channel, p.Username, p.IconURL = s.Channel, s.Username, s.IconURL
	if _, _, err := n.client.PostJSON(ctx, s.WebhookURL, p, nil); err != nil {
		return fmt.Errorf("sending event %s to Mattermost: %w", ev.ID, err)
	}
	return nil
}

// Payload is an incoming webhook's request body.
type Payload struct {
	Text        string       `json:"text,omitempty"`
	Channel     string       `json:"channel,omitempty"`
	Username    string       `json:"username,omitempty"`
	IconURL     string       `json:"icon_url,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Attachment is a Mattermost message attachment.
type Attachment struct {
	Fallback  string  `json:"fallback"`
	Color     string  `json:"color"`
	Title     string  `json:"title"`
	TitleLink string  `json:"title_link,omitempty"`
	Text      string  `json:"text,omitempty"`
	Fields    []Field `json:"fields,omitempty"`
	Footer    string  `json:"footer"`
}

// Field is an attachment field.
type Field struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// Colours by severity.
var colours = map[sdk.Severity]string{
	sdk.SeverityInfo:    "#3498DB",
	sdk.SeverityWarning: "#F1C40F",
	sdk.SeverityError:   "#E74C3C",
}

// Colour returns the attachment colour of a severity.
func Colour(s sdk.Severity) string {
	if c, ok := colours[s]; ok {
		return c
	}
	return colours[sdk.SeverityInfo]
}

var markdown = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, ">", `\>`, "#", `\#`, "[", `\[`, "]", `\]`, "<", `\<`, "@", "@\u200b")

// Escape escapes Markdown and neutralises @-mentions (@channel, @all...)
// so texts show as written and notify no one.
func Escape(s string) string { return markdown.Replace(s) }

func esc(s string, limit int) string { return httpsend.TruncateEscaped(s, limit, Escape) }

// link returns a Markdown link to u, or "" when u is not an http(s) URL.
func link(text, u string) string {
	pu, err := url.Parse(u)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || strings.ContainsAny(u, "() ") {
		return ""
	}
	return "[" + text + "](" + u + ")"
}

func footer(ev sdk.Event) string {
	return httpsend.Truncate("berth · "+eventview.SeverityLabel(ev.Severity)+" · event "+ev.ID, 300)
}

// Render builds the payload for ev in style (StyleAttachment or
// StyleText).
func Render(ev sdk.Event, style string) Payload {
	if style == StyleText {
		var b strings.Builder
		b.WriteString("#### " + esc(ev.Title, MaxTitle) + "\n")
		if ev.Message != "" {
			b.WriteString(esc(ev.Message, MaxAttachmentText) + "\n")
		}
		for _, f := range eventview.Fields(ev) {
			b.WriteString("- **" + esc(f.Name, 100) + "**: " + esc(f.Value, MaxFieldValue) + "\n")
		}
		if l := link("Open in berth", ev.URL); l != "" {
			b.WriteString(l + "\n")
		}
		tail := "_" + Escape(footer(ev)) + "_"
		return Payload{Text: httpsend.Truncate(b.String(), MaxMessage-httpsend.RuneLen(tail)-1) + "\n" + tail}
	}
	a := Attachment{
		Fallback: httpsend.Truncate(ev.Title+" (event "+ev.ID+")", 1000),
		Color:    Colour(ev.Severity),
		Title:    httpsend.Truncate(ev.Title, MaxTitle),
		Text:     esc(ev.Message, MaxAttachmentText),
		Footer:   footer(ev),
	}
	if link("x", ev.URL) != "" {
		a.TitleLink = ev.URL
	}
	for _, f := range eventview.Fields(ev) {
		if len(a.Fields) == MaxFields {
			break
		}
		a.Fields = append(a.Fields, Field{Title: httpsend.Truncate(f.Name, 100), Value: esc(f.Value, MaxFieldValue), Short: !f.Long})
	}
	return Payload{Attachments: []Attachment{a}}
}
