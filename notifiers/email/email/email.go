// Package email implements notifier.email: each event is e-mailed through
// an SMTP server (net/smtp) as a multipart/alternative message with a
// plain-text and an HTML part, its subject the event's title and its
// Message-ID derived from the event id, so a retried delivery carries the
// same id and mail systems can tell it is a duplicate.
//
// Connections use STARTTLS (the default, required when chosen), implicit
// TLS, or clear text; clear text ("none") is accepted only for servers on
// a loopback address (a local relay or a test server), so credentials and
// messages never cross a network unencrypted. Authentication is AUTH PLAIN
// or AUTH LOGIN.
package email

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Notifier is the e-mail notifier.
type Notifier struct {
	sdk.UnimplementedNotifier

	mu sync.RWMutex
	c  *config
}

// New returns an unconfigured notifier.
func New() *Notifier { return &Notifier{} }

// Info describes the plugin.
func (n *Notifier) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.email", Version: Version, Description: "E-mails events through an SMTP server."}, nil
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
	c, err := check(s)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.c = c
	n.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// Send e-mails the event; MessageID is its Message-ID.
func (n *Notifier) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	id, err := n.send(ctx, req.Event)
	if err != nil {
		return nil, err
	}
	return &sdk.SendResponse{MessageID: id}, nil
}

// TestConnection e-mails a test message to the recipients.
func (n *Notifier) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if _, err := n.send(ctx, eventview.TestEvent(time.Now())); err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return &sdk.TestConnectionResponse{Message: "The SMTP server " + n.c.addr + " accepted a test e-mail."}, nil
}

func (n *Notifier) send(ctx context.Context, ev sdk.Event) (string, error) {
	n.mu.RLock()
	c := n.c
	n.mu.RUnlock()
	if c == nil {
		return "", sdk.ErrNotConfigured
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	msg, err := Compose(ev, c.from, c.to, time.Now())
	if err != nil {
		return "", err
	}
	if err := deliver(ctx, c, msg); err != nil {
		return "", err
	}
	return MessageID(ev.ID, domainOf(c.from.Address)), nil
}
