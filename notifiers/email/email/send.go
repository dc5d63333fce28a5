package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// dialTimeout bounds a delivery when ctx has no deadline.
const dialTimeout = 30 * time.Second

// deliver sends msg through the server of c.
func deliver(ctx context.Context, c *config, msg []byte) (err error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dialTimeout)
		defer cancel()
	}
	// Name the context's error rather than the closed connection's.
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("sending to %s: %w", c.addr, ctx.Err())
		}
	}()
	tlsConfig := &tls.Config{ServerName: c.Host, RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	dialer := &net.Dialer{}
	var conn net.Conn
	if c.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", c.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return fmt.Errorf("connecting to %s: %w: %w", c.addr, sdk.ErrUnavailable, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	cl, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		conn.Close()
		return smtpError(c, "greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello("berth.localhost"); err != nil {
		return smtpError(c, "EHLO", err)
	}
	if c.Security == SecuritySTARTTLS {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s does not offer STARTTLS; set security to tls or use another port: %w", c.addr, sdk.ErrInvalidArgument)
		}
		if err := cl.StartTLS(tlsConfig); err != nil {
			return smtpError(c, "STARTTLS", err)
		}
	}
	if c.Username != "" {
		var auth smtp.Auth
		if c.Auth == AuthLogin {
			auth = &loginAuth{username: c.Username, password: c.Password, host: c.Host}
		} else {
			auth = smtp.PlainAuth("", c.Username, c.Password, c.Host)
		}
		if err := cl.Auth(auth); err != nil {
			return smtpError(c, "AUTH", err)
		}
	}
	if err := cl.Mail(c.from.Address); err != nil {
		return smtpError(c, "MAIL FROM", err)
	}
	for _, to := range c.to {
		if err := cl.Rcpt(to.Address); err != nil {
			return smtpError(c, "RCPT TO", err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpError(c, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError(c, "DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError(c, "DATA", err)
	}
	// The message is accepted once DATA is: a failed QUIT loses nothing.
	_ = cl.Quit()
	return nil
}

// smtpError maps a failed SMTP step to the SDK's errors: replies 4xx are
// transient (retry), 530/534/535 refuse the credentials, other 5xx replies
// refuse the message, a TLS certificate failure is a setting to fix, and
// anything else (network) is transient.
func smtpError(c *config, step string, err error) error {
	var te *textproto.Error
	var ae authError
	var ce *tls.CertificateVerificationError
	switch {
	case errors.As(err, &ae):
		return fmt.Errorf("%s at %s: %s: %w", step, c.addr, ae.msg, sdk.ErrInvalidArgument)
	case errors.As(err, &ce):
		return fmt.Errorf("%s at %s: %w: %w", step, c.addr, sdk.ErrInvalidArgument, err)
	case errors.As(err, &te) && (te.Code == 530 || te.Code == 534 || te.Code == 535):
		return fmt.Errorf("%s at %s: %d %s: %w", step, c.addr, te.Code, te.Msg, sdk.ErrUnauthenticated)
	case errors.As(err, &te) && te.Code >= 400 && te.Code < 500:
		return fmt.Errorf("%s at %s: %d %s: %w", step, c.addr, te.Code, te.Msg, sdk.ErrUnavailable)
	case errors.As(err, &te):
		return fmt.Errorf("%s at %s: %d %s: %w", step, c.addr, te.Code, te.Msg, sdk.ErrInvalidArgument)
	default:
		return fmt.Errorf("%s at %s: %w: %w", step, c.addr, sdk.ErrUnavailable, err)
	}
}

// authError is a refusal of this side to authenticate.
type authError struct{ msg string }

func (e authError) Error() string { return e.msg }

// loginAuth implements AUTH LOGIN: the server asks for the username and
// then the password. Like smtp.PlainAuth, it refuses to send them over a
// connection without TLS unless the server is on a loopback address.
type loginAuth struct {
	username, password, host string
	step                     int
}

// Start begins AUTH LOGIN.
func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(a.host) {
		return "", nil, authError{"refusing to send credentials over a connection without TLS"}
	}
	if server.Name != a.host {
		return "", nil, authError{"wrong host name"}
	}
	a.step = 0
	return "LOGIN", nil, nil
}

// Next answers the server's prompts.
func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	default:
		return nil, authError{"unexpected AUTH LOGIN challenge"}
	}
}
