// Package discord implements notifier.discord: events are posted through
// Discord's execute-webhook endpoint (with ?wait=true, so the message id is
// returned) as one embed coloured by severity, within Discord's documented
// embed limits, with mentions disabled.
package discord

import (
	"context"
	"encoding/json"
	"errors"
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
const ID = "notifier.discord"

// Version is the plugin's version.
const Version = "1.0.0"

// Discord's embed limits, in characters.
const (
	MaxTitle       = 256
	MaxDescription = 4096
	MaxFields      = 25
	MaxFieldName   = 256
	MaxFieldValue  = 1024
	MaxFooter      = 2048
	MaxUsername    = 80
	// MaxTotal bounds the sum of title, description, field names and
	// values, footer and author texts of a message's embeds.
	MaxTotal = 6000
)

// Colours by severity.
const (
	ColorInfo    = 0x3498DB
	ColorWarning = 0xF1C40F
	ColorError   = 0xE74C3C
)

// Settings are the plugin's settings.
type Settings struct {
	WebhookURL string `json:"webhook_url" jsonschema:"required,title=Webhook URL,format=uri,writeOnly=true" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"The channel webhook's URL (https://discord.com/api/webhooks/<id>/<token>). It is a secret: anyone with it can post to the channel."`
	Username   string `json:"username,omitempty" jsonschema:"title=Username,maxLength=80" jsonschema_description:"Name the messages are posted under. Empty: the webhook's name."`
	AvatarURL  string `json:"avatar_url,omitempty" jsonschema:"title=Avatar URL,format=uri" jsonschema_description:"Image shown next to the messages. Empty: the webhook's avatar."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Discord", "Posts events to a Discord channel through a webhook."))

// Notifier is the Discord notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client *httpsend.Client

	mu       sync.RWMutex
	settings *Settings
	target   string // WebhookURL with wait=true
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: &httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-discord/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: ID, Version: Version, Description: "Posts events to a Discord channel through a webhook, as embeds coloured by severity."}, nil
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
	if httpsend.RuneLen(s.Username) > MaxUsername {
		errs.Add("username", fmt.Sprintf("must be at most %d characters", MaxUsername))
	} else if l := strings.ToLower(s.Username); strings.Contains(l, "discord") || strings.Contains(l, "clyde") {
		errs.Add("username", `must not contain "discord" or "clyde" (Discord refuses it)`)
	}
	if s.AvatarURL != "" && httpsend.CheckURL(s.AvatarURL) != "" {
		errs.Add("avatar_url", "must be an http or https URL")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(s.WebhookURL)
	q := u.Query()
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	n.mu.Lock()
	n.settings, n.target = &s, u.String()
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Send posts the event and returns the Discord message id.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	id, err := n.post(ctx, req.Event)
	if err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: id}, nil
}

// TestConnection posts a test message.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if _, err := n.post(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "Discord accepted a test message."}, nil
}

func (n *Notifier) post(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	s, target := n.settings, n.target
	n.mu.RUnlock()
	if s == nil {
		return "", fmt.Errorf("sending event %s: %w", ev.ID, sdk.ErrNotConfigured)
	}
	msg := Render(ev)
	msg.Username, msg.AvatarURL = s.Username, s.AvatarURL
	resp, body, err := n.client.PostJSON(ctx, target, msg, nil)
	if err != nil {
		var ra *httpsend.RetryAfterError
		if resp != nil && resp.StatusCode == http.StatusTooManyRequests && !errors.As(err, &ra) {
			// Discord also gives the delay in the body, in seconds.
			var rl struct {
				RetryAfter float64 `json:"retry_after"`
			}
			if json.Unmarshal(body, &rl) == nil && rl.RetryAfter > 0 {
				err = fmt.Errorf("%w (%w)", err, &httpsend.RetryAfterError{After: time.Duration(rl.RetryAfter * float64(time.Second))})
			}
		}
		return "", fmt.Errorf("sending event %s to Discord: %w", ev.ID, err)
	}
	var m struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &m) // a 204 without wait has no body
	return m.ID, nil
}

// Message is an execute-webhook request body.
type Message struct {
	Username        string          `json:"username,omitempty"`
	AvatarURL       string          `json:"avatar_url,omitempty"`
	Embeds          []Embed         `json:"embeds"`
	AllowedMentions AllowedMentions `json:"allowed_mentions"`
}

// AllowedMentions says which mentions notify; berth's messages ping no one.
type AllowedMentions struct {
	Parse []string `json:"parse"`
}

// Embed is a Discord rich embed.
type Embed struct {
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	URL         string  `json:"url,omitempty"`
	Timestamp   string  `json:"timestamp,omitempty"`
	Color       int     `json:"color"`
	Fields      []Field `json:"fields,omitempty"`
	Footer      *Footer `json:"footer,omitempty"`
}

// Field is an embed field.
type Field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

// Footer is an embed footer.
type Footer struct {
	Text string `json:"text"`
}

// Escape escapes Discord markdown so texts show as written.
func Escape(s string) string {
	return markdown.Replace(s)
}

var markdown = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, ">", `\>`, "#", `\#`, "[", `\[`, "]", `\]`, "@", "@\u200b")

// Colour returns the embed colour of a severity.
func Colour(s sdk.Severity) int {
	switch s {
	case sdk.SeverityError:
		return ColorError
	case sdk.SeverityWarning:
		return ColorWarning
	default:
		return ColorInfo
	}
}

// Render builds the message for ev within Discord's limits: fields are
// dropped (from the end) before the description is cut.
func Render(ev sdk.Event) Message {
	e := Embed{
		Title:  httpsend.Truncate(firstNonEmpty(ev.Title, string(ev.Type), "berth event"), MaxTitle),
		Color:  Colour(ev.Severity),
		Footer: &Footer{Text: httpsend.Truncate("berth · "+eventview.SeverityLabel(ev.Severity)+" · event "+ev.ID, 300)},
	}
	if u, err := url.Parse(ev.URL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		e.URL = ev.URL
	}
	if !ev.Time.IsZero() {
		e.Timestamp = ev.Time.UTC().Format(time.RFC3339)
	}
	used := httpsend.RuneLen(e.Title) + httpsend.RuneLen(e.Footer.Text)
	// Keep room for the message, up to 1000 characters, before fields.
	reserve := min(httpsend.RuneLen(Escape(ev.Message)), 1000)
	for _, f := range eventview.Fields(ev) {
		if len(e.Fields) == MaxFields {
			break
		}
		fd := Field{Name: httpsend.Truncate(f.Name, MaxFieldName), Value: httpsend.TruncateEscaped(f.Value, MaxFieldValue, Escape), Inline: !f.Long}
		size := httpsend.RuneLen(fd.Name) + httpsend.RuneLen(fd.Value)
		if used+size > MaxTotal-reserve {
			break
		}
		e.Fields = append(e.Fields, fd)
		used += size
	}
	e.Description = httpsend.TruncateEscaped(ev.Message, min(MaxDescription, MaxTotal-used), Escape)
	return Message{Embeds: []Embed{e}, AllowedMentions: AllowedMentions{Parse: []string{}}}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
