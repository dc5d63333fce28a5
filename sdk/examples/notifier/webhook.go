package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// defaultClient is the HTTP client of the plugin binary.
var defaultClient = &http.Client{Timeout: 30 * time.Second}

// Webhook is a notifier that POSTs every event as a JSON document to the URL
// in its settings, signed with HMAC-SHA256 when a secret is set.
type Webhook struct {
	sdk.UnimplementedNotifier

	client *http.Client

	mu       sync.RWMutex
	settings *settings // nil until configured
}

// settings is the plugin's settings document.
type settings struct {
	URL     string            `json:"url"`
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
}

const schema = `{
  "type": "object",
  "title": "Webhook",
  "properties": {
    "url": {"type": "string", "format": "uri", "title": "URL", "description": "Events are POSTed here as JSON."},
    "secret": {"type": "string", "title": "Signing secret", "writeOnly": true, "description": "When set, requests carry X-Berth-Signature: sha256=<HMAC-SHA256 of the body>."},
    "headers": {"type": "object", "title": "Extra headers", "additionalProperties": {"type": "string"}}
  },
  "required": ["url"],
  "additionalProperties": false
}`

// SignatureHeader carries the body's HMAC-SHA256 when a secret is set.
const SignatureHeader = "X-Berth-Signature"

// Info describes the plugin.
func (w *Webhook) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:          "notifier.example",
		Version:     "0.1.0",
		Description: "POSTs events as JSON to a URL (SDK example).",
	}, nil
}

// ConfigSchema returns the settings schema.
func (w *Webhook) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: json.RawMessage(schema)}, nil
}

// Configure validates the URL and headers.
func (w *Webhook) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	var errs sdk.ConfigError
	if u, err := url.Parse(s.URL); s.URL == "" {
		errs.Add("url", "is required")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs.Add("url", "must be an http or https URL")
	}
	for name := range s.Headers {
		if name == "" || name == "Content-Type" || name == SignatureHeader {
			errs.Add("headers."+name, "cannot be set")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.settings = &s
	w.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Payload is the JSON document POSTed for each event.
type Payload struct {
	ID        string                `json:"id"`
	Type      sdk.EventType         `json:"type"`
	Time      time.Time             `json:"time"`
	Severity  sdk.Severity          `json:"severity,omitempty"`
	Title     string                `json:"title"`
	Message   string                `json:"message"`
	Project   string                `json:"project,omitempty"`
	App       string                `json:"app,omitempty"`
	URL       string                `json:"url,omitempty"`
	Fields    map[string]string     `json:"fields,omitempty"`
	Deploy    *sdk.DeployDetails    `json:"deploy,omitempty"`
	Backup    *sdk.BackupDetails    `json:"backup,omitempty"`
	Threshold *sdk.ThresholdDetails `json:"threshold,omitempty"`
	Cleanup   *sdk.CleanupDetails   `json:"cleanup,omitempty"`
	Restart   *sdk.RestartDetails   `json:"restart,omitempty"`
}

// Send POSTs the event.
func (w *Webhook) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	if err := w.post(ctx, req.Event); err != nil {
		return nil, err
	}
	return &sdk.SendResponse{}, nil
}

// TestConnection POSTs an event of type "test".
func (w *Webhook) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	ev := sdk.Event{
		ID: fmt.Sprintf("test-%d", time.Now().UnixNano()), Type: sdk.EventTest, Time: time.Now().UTC(),
		Severity: sdk.SeverityInfo, Title: "berth test notification", Message: "If you can read this, berth can reach this webhook.",
	}
	if err := w.post(ctx, ev); err != nil {
		return nil, err
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	return &sdk.TestConnectionResponse{Message: "POSTed a test event to " + w.settings.URL}, nil
}

func (w *Webhook) post(ctx context.Context, ev sdk.Event) error {
	w.mu.RLock()
	s := w.settings
	w.mu.RUnlock()
	if s == nil {
		return sdk.ErrNotConfigured
	}
	body, err := json.Marshal(Payload{
		ID: ev.ID, Type: ev.Type, Time: ev.Time, Severity: ev.Severity, Title: ev.Title, Message: ev.Message,
		Project: ev.Project, App: ev.App, URL: ev.URL, Fields: ev.Fields,
		Deploy: ev.Deploy, Backup: ev.Backup, Threshold: ev.Threshold, Cleanup: ev.Cleanup, Restart: ev.Restart,
	})
	if err != nil {
		return fmt.Errorf("encoding event %s: %w", ev.ID, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting event %s: %w", ev.ID, err)
	}
	for k, v := range s.Headers {
		hreq.Header.Set(k, v)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("User-Agent", "berth-notifier-example/0.1.0")
	if s.Secret != "" {
		hreq.Header.Set(SignatureHeader, Sign(s.Secret, body))
	}
	resp, err := w.client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("posting event %s: %w", ev.ID, ctx.Err())
		}
		return fmt.Errorf("posting event %s: %w: %w", ev.ID, sdk.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("posting event %s: %s answered %s: %w", ev.ID, s.URL, resp.Status, sdk.ErrUnauthenticated)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("posting event %s: %s answered %s: %w", ev.ID, s.URL, resp.Status, sdk.ErrUnavailable)
	default:
		return fmt.Errorf("posting event %s: %s answered %s: %s", ev.ID, s.URL, resp.Status, bytes.TrimSpace(snippet))
	}
}

// Sign returns the value of SignatureHeader for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
