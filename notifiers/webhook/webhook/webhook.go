// Package webhook implements notifier.webhook: every event is POSTed to a
// URL as a JSON document of a stable, documented schema (Payload, see
// docs/notifiers/webhook.md), signed with HMAC-SHA256 when a secret is set.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
const ID = "notifier.webhook"

// Version is the plugin's version.
const Version = "1.0.0"

// Headers berth sets on every request.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
	// keyed with the secret, when a secret is set.
	SignatureHeader = "X-Berth-Signature"
	// EventHeader carries the event type.
	EventHeader = "X-Berth-Event"
	// DeliveryHeader carries the event id, the same for every retry of
	// one event.
	DeliveryHeader = "X-Berth-Delivery"
)

// Settings are the plugin's settings.
type Settings struct {
	URL           string            `json:"url" jsonschema:"required,title=URL,format=uri" jsonschema_extras:"x-berth-outbound-url=true" jsonschema_description:"Events are POSTed here as JSON (see docs/notifiers/webhook.md for the schema)."`
	Secret        string            `json:"secret,omitempty" jsonschema:"title=Signing secret,format=password,writeOnly=true" jsonschema_description:"When set, every request carries X-Berth-Signature: sha256=<hex HMAC-SHA256 of the body keyed with this secret>."`
	Headers       map[string]string `json:"headers,omitempty" jsonschema:"title=Extra headers" jsonschema_description:"Headers added to every request, shown in the settings."`
	SecretHeaders map[string]string `json:"secret_headers,omitempty" jsonschema:"title=Secret headers,writeOnly=true" jsonschema_description:"Headers added to every request whose values are secrets (say Authorization), never shown again once saved."`
}

var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Webhook", "POSTs every event as a JSON document to a URL."))

// reserved are headers the plugin sets itself or HTTP manages.
var reserved = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Transfer-Encoding": true, "Connection": true, "Te": true, "Trailer": true, "Upgrade": true,
	"Keep-Alive": true, "Proxy-Connection": true, "Expect": true,
}

// Notifier is the webhook notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	client *httpsend.Client

	mu       sync.RWMutex
	settings *Settings // nil until configured
}

// New returns an unconfigured notifier.
func New() *Notifier {
	return &Notifier{client: &httpsend.Client{HTTP: &http.Client{Timeout: 30 * time.Second}, UserAgent: "berth-notifier-webhook/" + Version}}
}

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: ID, Version: Version, Description: "POSTs every event as a signed JSON document to a URL."}, nil
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
	if msg := httpsend.CheckURL(s.URL); msg != "" {
		errs.Add("url", msg)
	}
	seen := map[string]string{}
	for _, set := range []struct {
		field string
		h     map[string]string
	}{{"headers", s.Headers}, {"secret_headers", s.SecretHeaders}} {
		for name, value := range set.h {
			canon := http.CanonicalHeaderKey(name)
			switch {
			case !validHeaderName(name):
				errs.Add(set.field, fmt.Sprintf("%q is not a valid header name", name))
			case reserved[canon] || strings.HasPrefix(canon, "X-Berth-"):
				errs.Add(set.field+"."+name, "is set by berth and cannot be overridden")
			case seen[canon] != "":
				errs.Add(set.field+"."+name, "is also set in "+seen[canon])
			case !validHeaderValue(value):
				// Never quote the value: it may be a secret.
				errs.Add(set.field+"."+name, "must not contain control characters or line breaks")
			}
			seen[canon] = set.field
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.settings = &s
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// validHeaderName reports whether name is an HTTP token (RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v holds no control characters but tab.
func validHeaderValue(v string) bool {
	for _, c := range []byte(v) {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Send POSTs the event.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	if err := n.post(ctx, req.Event); err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: req.Event.ID}, nil
}

// TestConnection POSTs an event of type "test".
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if err := n.post(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	return &sdk.TestConnectionResponse{Message: "The webhook accepted a test event."}, nil
}

func (n *Notifier) post(ctx context.Context, ev sdk.Event) error {
	n.mu.RLock()
	s := n.settings
	n.mu.RUnlock()
	if s == nil {
		return fmt.Errorf("sending event %s: %w", ev.ID, sdk.ErrNotConfigured)
	}
	body, err := json.Marshal(NewPayload(ev))
	if err != nil {
		return fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	h := http.Header{}
	for k, v := range s.Headers {
		h.Set(k, v)
	}
	for k, v := range s.SecretHeaders {
		h.Set(k, v)
	}
	h.Set(EventHeader, string(ev.Type))
	h.Set(DeliveryHeader, ev.ID)
	if s.Secret != "" {
		h.Set(SignatureHeader, Sign(s.Secret, body))
	}
	if _, _, err := n.client.PostBody(ctx, s.URL, "application/json", body, h); err != nil {
		// The receiver may echo a secret header back in its answer.
		secrets := []string{s.Secret}
		for _, v := range s.SecretHeaders {
			secrets = append(secrets, v)
		}
		return httpsend.Redact(fmt.Errorf("sending event %s: %w", ev.ID, err), secrets...)
	}
	return nil
}

// Sign returns the X-Berth-Signature value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature (an X-Berth-Signature value) signs body
// with secret, comparing in constant time. Receivers written in Go can use
// it as is.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}
