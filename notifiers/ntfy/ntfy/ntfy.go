// Package ntfy implements notifier.ntfy: each event is published to a topic
// of an ntfy server (ntfy.sh or self-hosted) as JSON POSTed to the server's
// root URL (https://docs.ntfy.sh/publish/#publish-as-json), which carries
// title, tags, priority and click URL in the body instead of headers, so
// any text is sent without header encoding. Access tokens are sent as
// Bearer, user and password as Basic authentication.
package ntfy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
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

// DefaultServer is the public ntfy server.
const DefaultServer = "https://ntfy.sh"

// MaxMessageBytes is ntfy's default message size limit: longer messages
// would be turned into attachments, so messages are cut to it.
const MaxMessageBytes = 4096

// MaxTitle is the most runes of a title berth sends.
const MaxTitle = 250

// topicPattern is the form of ntfy topic names.
var topicPattern = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// Settings are the plugin's settings.
type Settings struct {
	// Server is the ntfy server's base URL.
	Server string `json:"server,omitempty" jsonschema:"title=Server URL,format=uri,default=https://ntfy.sh" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Base URL of the ntfy server. Empty: https://ntfy.sh."`
	// Topic is the topic published to.
	Topic string `json:"topic" jsonschema:"required,title=Topic,pattern=^[-_A-Za-z0-9]{1\\,64}$" jsonschema_description:"Topic to publish to: letters, digits, - and _ (at most 64)."`
	// Token is an access token (Bearer).
	Token string `json:"token,omitempty" jsonschema:"title=Access token,writeOnly=true" jsonschema_description:"Access token (tk_...) of a protected topic. Leave empty to use a user and password, or none."`
	// Username and Password authenticate with Basic authentication.
	Username string `json:"username,omitempty" jsonschema:"title=Username" jsonschema_description:"User of a protected topic, with Password (instead of a token)."`
	// Password goes with Username.
	Password string `json:"password,omitempty" jsonschema:"title=Password,writeOnly=true"`
	// Priority overrides the priority derived from the severity.
	Priority int `json:"priority,omitempty" jsonschema:"title=Priority,minimum=0,maximum=5" jsonschema_description:"ntfy priority 1 (min) to 5 (max) for every message. Empty or 0: 3 for info, 4 for warnings, 5 for errors."`
	// Tags are added to every message.
	Tags []string `json:"tags,omitempty" jsonschema:"title=Tags" jsonschema_description:"Tags added to every message; tags naming an emoji short code (warning, tada) show as emojis."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("ntfy", "Publishes events to an ntfy topic."))

// Notifier is the ntfy notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client httpsend.Client

	mu sync.RWMutex
	s  *Settings
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-ntfy/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.ntfy", Version: Version, Description: "Publishes events to an ntfy topic."}, nil
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
	if s.Server == "" {
		s.Server = DefaultServer
	} else if msg := httpsend.CheckURL(s.Server); msg != "" {
		errs.Add("server", msg)
	}
	if !topicPattern.MatchString(s.Topic) {
		errs.Add("topic", "must be 1 to 64 letters, digits, - or _")
	}
	if s.Token != "" && (s.Username != "" || s.Password != "") {
		errs.Add("token", "cannot be combined with a username and password")
	}
	if (s.Username == "") != (s.Password == "") {
		errs.Add("password", "and username must be set together")
	}
	if s.Priority < 0 || s.Priority > 5 {
		errs.Add("priority", "must be between 1 and 5 (0: from the severity)")
	}
	for i, tag := range s.Tags {
		if strings.TrimSpace(tag) == "" || strings.Contains(tag, ",") {
			errs.Add("tags["+strconv.Itoa(i)+"]", "must be a non-empty word without commas")
		}
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

// Message is the JSON document published.
type Message struct {
	Topic    string   `json:"topic"`
	Title    string   `json:"title,omitempty"`
	Message  string   `json:"message"`
	Priority int      `json:"priority"`
	Tags     []string `json:"tags,omitempty"`
	Click    string   `json:"click,omitempty"`
}

// Render returns the message for ev with settings s.
func Render(s *Settings, ev sdk.Event) Message {
	m := Message{Topic: s.Topic, Title: httpsend.Truncate(ev.Title, MaxTitle), Priority: s.Priority, Click: ev.URL}
	if m.Priority == 0 {
		m.Priority = map[sdk.Severity]int{sdk.SeverityWarning: 4, sdk.SeverityError: 5}[ev.Severity]
		if m.Priority == 0 {
			m.Priority = 3
		}
	}
	switch ev.Severity {
	case sdk.SeverityError:
		m.Tags = append(m.Tags, "rotating_light")
	case sdk.SeverityWarning:
		m.Tags = append(m.Tags, "warning")
	}
	m.Tags = append(m.Tags, s.Tags...)
	// Cut by runes until the message fits ntfy's limit in bytes.
	m.Message = fitBytes(ev, MaxMessageBytes)
	return m
}

// Send publishes the event.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	id, err := n.send(ctx, req.Event)
	if err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: id}, nil
}

// TestConnection publishes a test message.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if _, err := n.send(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return &sdk.TestConnectionResponse{Message: "Published a test message to topic " + n.s.Topic + "."}, nil
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	s := n.s
	n.mu.RUnlock()
	if s == nil {
		return "", sdk.ErrNotConfigured
	}
	h := http.Header{}
	switch {
	case s.Token != "":
		h.Set("Authorization", "Bearer "+s.Token)
	case s.Username != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.Username+":"+s.Password)))
	}
	_, body, err := n.client.PostJSON(ctx, s.Server+"/", Render(s, ev), h)
	if err != nil {
		return "", fmt.Errorf("publishing event %s to ntfy: %w", ev.ID, err)
	}
	var ans struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &ans)
	return ans.ID, nil
}

// fitBytes returns the longest eventtext.PlainLimit of ev that holds at
// most limit bytes (ntfy counts bytes, eventtext cuts runes).
func fitBytes(ev sdk.Event, limit int) string {
	if text := eventtext.PlainLimit(ev, limit); len(text) <= limit {
		return text
	}
	lo, hi := 0, limit // PlainLimit(lo) fits, PlainLimit(hi) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if len(eventtext.PlainLimit(ev, mid)) <= limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	return eventtext.PlainLimit(ev, lo)
}
