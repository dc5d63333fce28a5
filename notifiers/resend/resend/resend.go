// Package resend implements notifier.resend: each event is e-mailed with
// POST <base URL>/emails of the Resend API (https://resend.com/docs/api-reference/emails/send-email),
// authenticated with a Bearer API key. The event id is sent as the
// Idempotency-Key, so a retried delivery is not sent twice.
package resend

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/notifiers/internal/mailrender"
	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// DefaultBaseURL is Resend's API.
const DefaultBaseURL = "https://api.resend.com"

// MaxRecipients is Resend's limit of addresses in "to".
const MaxRecipients = 50

// Settings are the plugin's settings.
type Settings struct {
	// APIKey is a Resend API key with sending access.
	APIKey string `json:"api_key" jsonschema:"required,title=API key,writeOnly=true" jsonschema_description:"A Resend API key (re_...) with sending access."`
	// From is the sender, on a domain verified with Resend.
	From string `json:"from" jsonschema:"required,title=From,example=berth <berth@example.com>" jsonschema_description:"Sender address on a domain verified with Resend; a name may be given as Name <address>."`
	// To are the recipients.
	To []string `json:"to" jsonschema:"required,title=To,minItems=1,maxItems=50" jsonschema_description:"Recipient addresses (at most 50)."`
	// BaseURL overrides the API's address.
	BaseURL string `json:"base_url,omitempty" jsonschema:"title=API base URL,format=uri,default=https://api.resend.com" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Address of the Resend API. Empty: https://api.resend.com."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Resend", "E-mails events through Resend."))

// Notifier is the Resend notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client httpsend.Client

	mu sync.RWMutex
	s  *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-resend/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.resend", Version: Version, Description: "E-mails events through the Resend API."}, nil
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
	if s.APIKey == "" {
		errs.Add("api_key", "is required")
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		errs.Add("from", "must be an e-mail address")
	}
	if len(s.To) == 0 || len(s.To) > MaxRecipients {
		errs.Add("to", fmt.Sprintf("must list 1 to %d addresses", MaxRecipients))
	}
	for i, a := range s.To {
		if _, err := mail.ParseAddress(a); err != nil {
			errs.Add("to["+strconv.Itoa(i)+"]", "must be an e-mail address")
		}
	}
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	} else if msg := httpsend.CheckURL(s.BaseURL); msg != "" {
		errs.Add("base_url", msg)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	n.mu.Lock()
	n.s = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Email is the body of POST /emails.
type Email struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	HTML    string   `json:"html"`
	Text    string   `json:"text"`
	Tags    []Tag    `json:"tags,omitempty"`
}

// Tag is a Resend e-mail tag (ASCII letters, digits, _ and -).
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// IdempotencyKey is the Idempotency-Key of event id (Resend keeps keys of
// at most 256 characters for 24 hours).
func IdempotencyKey(eventID string) string { return httpsend.Truncate("berth-event/"+eventID, 256) }

// Send e-mails the event.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	id, err := n.send(ctx, req.Event)
	if err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: id}, nil
}

// TestConnection e-mails a test message.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	id, err := n.send(ctx, eventview.TestEvent(time.Now()))
	if err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "Resend accepted a test e-mail (id " + id + ")."}, nil
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	s := n.s
	n.mu.RUnlock()
	if s == nil {
		return "", sdk.ErrNotConfigured
	}
	html, err := mailrender.HTML(ev)
	if err != nil {
		return "", err
	}
	e := Email{
		From: s.From, To: s.To, Subject: mailrender.Subject(ev), HTML: html, Text: mailrender.Text(ev),
		Tags: []Tag{{Name: "berth_event_type", Value: tagValue(string(ev.Type))}},
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+s.APIKey)
	h.Set("Idempotency-Key", IdempotencyKey(ev.ID))
	_, body, err := n.client.PostJSON(ctx, s.BaseURL+"/emails", e, h)
	if err != nil {
		return "", fmt.Errorf("e-mailing event %s with Resend: %w", ev.ID, err)
	}
	var ans struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &ans)
	return ans.ID, nil
}

// tagValue keeps the characters Resend allows in tags.
func tagValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
