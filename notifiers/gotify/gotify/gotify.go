// Package gotify implements notifier.gotify: each event becomes a message
// POSTed to <server>/message of a Gotify server with an application token
// in the X-Gotify-Key header (https://gotify.net/api-docs).
package gotify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

// Settings are the plugin's settings.
type Settings struct {
	// Server is the Gotify server's base URL.
	Server string `json:"server" jsonschema:"required,title=Server URL,format=uri" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Base URL of the Gotify server, such as https://gotify.example.com."`
	// Token is an application token.
	Token string `json:"token" jsonschema:"required,title=Application token,writeOnly=true" jsonschema_description:"Token of a Gotify application (Apps > Create application)."`
	// Priority overrides the priority derived from the severity.
	Priority *int `json:"priority,omitempty" jsonschema:"title=Priority,minimum=0,maximum=10" jsonschema_description:"Gotify priority 0-10 for every message. Empty: 2 for info, 5 for warnings, 8 for errors."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Gotify", "Sends events as Gotify messages."))

// Notifier is the Gotify notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client httpsend.Client

	mu sync.RWMutex
	s  *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-gotify/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.gotify", Version: Version, Description: "Sends events to a Gotify server."}, nil
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
	if u, err := url.Parse(s.Server); s.Server == "" {
		errs.Add("server", "is required")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.Add("server", "must be an http or https URL")
	}
	if s.Token == "" {
		errs.Add("token", "is required")
	}
	if s.Priority != nil && (*s.Priority < 0 || *s.Priority > 10) {
		errs.Add("priority", "must be between 0 and 10")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	s.Server = strings.TrimRight(s.Server, "/")
	n.mu.Lock()
	n.s = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Message is the body of POST /message.
type Message struct {
	Title    string         `json:"title"`
	Message  string         `json:"message"`
	Priority int            `json:"priority"`
	Extras   map[string]any `json:"extras,omitempty"`
}

// Send posts the event as a message.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	id, err := n.send(ctx, req.Event)
	if err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: id}, nil
}

// TestConnection sends a test message.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if _, err := n.send(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "Sent a test message to Gotify."}, nil
}

// Render returns the message for ev with settings s.
func Render(s *Settings, ev sdk.Event) Message {
	m := Message{Title: ev.Title, Message: eventtext.Plain(ev), Priority: priority(ev.Severity)}
	if s.Priority != nil {
		m.Priority = *s.Priority
	}
	m.Extras = map[string]any{"berth::event": map[string]string{"id": ev.ID, "type": string(ev.Type)}}
	if ev.URL != "" {
		m.Extras["client::notification"] = map[string]any{"click": map[string]string{"url": ev.URL}}
	}
	return m
}

func priority(s sdk.Severity) int {
	switch s {
	case sdk.SeverityError:
		return 8
	case sdk.SeverityWarning:
		return 5
	default:
		return 2
	}
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	s := n.s
	n.mu.RUnlock()
	if s == nil {
		return "", sdk.ErrNotConfigured
	}
	body, err := json.Marshal(Render(s, ev))
	if err != nil {
		return "", fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Server+"/message", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("event %s: %w", ev.ID, sdk.ErrInvalidArgument)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("X-Gotify-Key", s.Token)
	_, rbody, err := n.client.Do(ctx, hreq)
	if err != nil {
		return "", fmt.Errorf("sending event %s to Gotify: %w", ev.ID, err)
	}
	var ans struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(rbody, &ans) != nil || ans.ID == 0 {
		return "", nil
	}
	return strconv.FormatInt(ans.ID, 10), nil
}
