// Package teams implements notifier.teams: each event is POSTed to a
// Microsoft Teams Workflows webhook ("When a Teams webhook request is
// received") as a message with one Adaptive Card attachment:
//
//	{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{...}}]}
//
// The card (version 1.4) shows the title, message, the event's labelled
// values as a FactSet, the event id and a button to the event. Teams
// refuses messages over 28 KB, so the message is cut to fit.
package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// MaxPayloadBytes is the size a message must stay under (Teams: 28 KB).
const MaxPayloadBytes = 27 << 10

// Rune limits of the card's texts.
const (
	MaxTitle     = 500
	MaxMessage   = 10000
	MaxFactValue = 1000
)

// CardContentType is the content type of an Adaptive Card attachment.
const CardContentType = "application/vnd.microsoft.card.adaptive"

// Settings are the plugin's settings.
type Settings struct {
	// WebhookURL is the workflow's HTTP trigger URL; it holds a secret.
	WebhookURL string `json:"webhook_url" jsonschema:"required,title=Workflow webhook URL,format=uri,writeOnly=true" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"URL of a Teams workflow started by 'When a Teams webhook request is received' (Workflows app > Post to a channel when a webhook request is received). It holds a secret."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Microsoft Teams", "Posts events as Adaptive Cards to a Teams channel through a Workflows webhook."))

// Notifier is the Teams notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client httpsend.Client

	mu sync.RWMutex
	s  *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-teams/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.teams", Version: Version, Description: "Posts events as Adaptive Cards to Microsoft Teams (Workflows webhook)."}, nil
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
	if msg := httpsend.CheckURL(s.WebhookURL); msg != "" {
		return nil, sdk.NewConfigError("webhook_url", msg)
	}
	n.mu.Lock()
	n.s = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Message is the webhook's body.
type Message struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment holds the card.
type Attachment struct {
	ContentType string `json:"contentType"`
	Content     Card   `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Schema  string           `json:"$schema"`
	Type    string           `json:"type"`
	Version string           `json:"version"`
	Body    []map[string]any `json:"body"`
	Actions []map[string]any `json:"actions,omitempty"`
	MSTeams map[string]any   `json:"msteams,omitempty"`
}

// Fact is one entry of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Render returns the message for ev, with its message cut to messageLimit
// runes.
func Render(ev sdk.Event, messageLimit int) Message {
	color := map[sdk.Severity]string{sdk.SeverityError: "Attention", sdk.SeverityWarning: "Warning"}[ev.Severity]
	if color == "" {
		color = "Default"
	}
	body := []map[string]any{
		{"type": "TextBlock", "text": httpsend.Truncate(ev.Title, MaxTitle), "weight": "Bolder", "size": "Medium", "color": color, "wrap": true},
		{"type": "TextBlock", "text": httpsend.Truncate(ev.Message, messageLimit), "wrap": true},
	}
	if fs := eventview.Fields(ev); len(fs) > 0 {
		facts := make([]Fact, len(fs))
		for i, f := range fs {
			facts[i] = Fact{Title: f.Name, Value: httpsend.Truncate(f.Value, MaxFactValue)}
		}
		body = append(body, map[string]any{"type": "FactSet", "facts": facts})
	}
	body = append(body, map[string]any{"type": "TextBlock", "text": eventtext.IDLine(ev), "isSubtle": true, "size": "Small", "wrap": true})
	card := Card{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4",
		Body: body, MSTeams: map[string]any{"width": "Full"},
	}
	if ev.URL != "" {
		card.Actions = []map[string]any{{"type": "Action.OpenUrl", "title": "Open in berth", "url": ev.URL}}
	}
	return Message{Type: "message", Attachments: []Attachment{{ContentType: CardContentType, Content: card}}}
}

// Encode renders ev as the webhook's JSON body within MaxPayloadBytes,
// halving the message until it fits.
func Encode(ev sdk.Event) ([]byte, error) {
	for limit := MaxMessage; ; limit /= 2 {
		b, err := json.Marshal(Render(ev, limit))
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		if len(b) <= MaxPayloadBytes || limit == 0 {
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

// TestConnection posts a test card.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if err := n.send(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "The Teams workflow accepted a test card."}, nil
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) error {
	n.mu.RLock()
	s := n.s
	n.mu.RUnlock()
	if s == nil {
		return sdk.ErrNotConfigured
	}
	body, err := Encode(ev)
	if err != nil {
		return err
	}
	if _, _, err := n.client.PostBody(ctx, s.WebhookURL, "application/json", body, nil); err != nil {
		return fmt.Errorf("posting event %s to Teams: %w", ev.ID, err)
	}
	return nil
}
