// Package pushover implements notifier.pushover: each event is sent with
// POST <base URL>/1/messages.json of the Pushover API
// (https://pushover.net/api), form-encoded, within Pushover's limits
// (title 250, message 1024, URL 512 and URL title 100 characters).
// Emergency priority 2 needs retry (at least 30 seconds) and expire (at
// most 10800 seconds).
package pushover

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
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

// DefaultBaseURL is Pushover's API.
const DefaultBaseURL = "https://api.pushover.net"

// Pushover's limits, in characters.
const (
	MaxTitle    = 250
	MaxMessage  = 1024
	MaxURL      = 512
	MaxURLTitle = 100
)

// Limits of emergency-priority retry and expire, in seconds.
const (
	MinRetry  = 30
	MaxExpire = 10800
)

// keyPattern is the form of Pushover application tokens and user keys.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9]{30}$`)

// Settings are the plugin's settings.
type Settings struct {
	// Token is the application's API token.
	Token string `json:"token" jsonschema:"required,title=Application token,writeOnly=true" jsonschema_description:"API token of your Pushover application (30 characters)."`
	// User is the user or group key.
	User string `json:"user" jsonschema:"required,title=User key,writeOnly=true" jsonschema_description:"User or group key to deliver to (30 characters)."`
	// Device limits delivery to some of the user's devices.
	Device string `json:"device,omitempty" jsonschema:"title=Devices" jsonschema_description:"Device names separated by commas. Empty: all of the user's devices."`
	// Priority overrides the priority derived from the severity.
	Priority *int `json:"priority,omitempty" jsonschema:"title=Priority,minimum=-2,maximum=2" jsonschema_description:"Pushover priority -2 to 2 for every message. Empty: 0 for info and warnings, 1 for errors. 2 (emergency) needs retry and expire."`
	// Retry is how often an emergency message is repeated, in seconds.
	Retry int `json:"retry,omitempty" jsonschema:"title=Retry (seconds),minimum=30" jsonschema_description:"With priority 2: seconds between repeats, at least 30."`
	// Expire is how long an emergency message is repeated, in seconds.
	Expire int `json:"expire,omitempty" jsonschema:"title=Expire (seconds),minimum=1,maximum=10800" jsonschema_description:"With priority 2: seconds to keep repeating, at most 10800."`
	// Sound names a Pushover sound.
	Sound string `json:"sound,omitempty" jsonschema:"title=Sound" jsonschema_description:"Name of a Pushover sound. Empty: the user's default."`
	// BaseURL overrides the API's address.
	BaseURL string `json:"base_url,omitempty" jsonschema:"title=API base URL,format=uri,default=https://api.pushover.net" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Address of the Pushover API. Empty: https://api.pushover.net."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Pushover", "Sends events as Pushover messages."))

// Notifier is the Pushover notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client httpsend.Client

	mu sync.RWMutex
	s  *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-pushover/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.pushover", Version: Version, Description: "Sends events as Pushover messages."}, nil
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
	if !keyPattern.MatchString(s.Token) {
		errs.Add("token", "must be a Pushover application token (30 letters and digits)")
	}
	if !keyPattern.MatchString(s.User) {
		errs.Add("user", "must be a Pushover user or group key (30 letters and digits)")
	}
	if s.Priority != nil && (*s.Priority < -2 || *s.Priority > 2) {
		errs.Add("priority", "must be between -2 and 2")
	}
	if s.Priority != nil && *s.Priority == 2 {
		if s.Retry < MinRetry {
			errs.Add("retry", fmt.Sprintf("must be at least %d seconds with priority 2", MinRetry))
		}
		if s.Expire < 1 || s.Expire > MaxExpire {
			errs.Add("expire", fmt.Sprintf("must be 1 to %d seconds with priority 2", MaxExpire))
		}
	} else {
		if s.Retry != 0 && s.Retry < MinRetry {
			errs.Add("retry", fmt.Sprintf("must be at least %d seconds", MinRetry))
		}
		if s.Expire < 0 || s.Expire > MaxExpire {
			errs.Add("expire", fmt.Sprintf("must be 1 to %d seconds", MaxExpire))
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

// Form returns the form fields of the message for ev with settings s.
func Form(s *Settings, ev sdk.Event) url.Values {
	f := url.Values{}
	f.Set("token", s.Token)
	f.Set("user", s.User)
	f.Set("title", httpsend.Truncate(ev.Title, MaxTitle))
	f.Set("message", eventtext.PlainLimit(ev, MaxMessage))
	if ev.URL != "" && httpsend.RuneLen(ev.URL) <= MaxURL {
		f.Set("url", ev.URL)
		f.Set("url_title", httpsend.Truncate("Open in berth", MaxURLTitle))
	}
	p := 0
	if ev.Severity == sdk.SeverityError {
		p = 1
	}
	if s.Priority != nil {
		p = *s.Priority
	}
	f.Set("priority", strconv.Itoa(p))
	if p == 2 {
		f.Set("retry", strconv.Itoa(s.Retry))
		f.Set("expire", strconv.Itoa(s.Expire))
	}
	if s.Device != "" {
		f.Set("device", s.Device)
	}
	if s.Sound != "" {
		f.Set("sound", s.Sound)
	}
	if !ev.Time.IsZero() {
		f.Set("timestamp", strconv.FormatInt(ev.Time.Unix(), 10))
	}
	return f
}

// Send sends the event.
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
	return &sdk.TestConnectionResponse{Message: "Pushover accepted a test message."}, nil
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	s := n.s
	n.mu.RUnlock()
	if s == nil {
		return "", sdk.ErrNotConfigured
	}
	_, body, err := n.client.PostBody(ctx, s.BaseURL+"/1/messages.json", "application/x-www-form-urlencoded", []byte(Form(s, ev).Encode()), nil)
	if err != nil {
		return "", fmt.Errorf("sending event %s to Pushover: %w", ev.ID, err)
	}
	var ans struct {
		Status  int    `json:"status"`
		Request string `json:"request"`
		Receipt string `json:"receipt"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || ans.Status != 1 {
		return "", fmt.Errorf("sending event %s to Pushover: the answer does not confirm delivery (status %d): %w", ev.ID, ans.Status, sdk.ErrUnavailable)
	}
	if ans.Receipt != "" {
		return ans.Receipt, nil
	}
	return ans.Request, nil
}
