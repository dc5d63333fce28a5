package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"

	"github.com/berth-dev/berth/notifiers/internal/mailrender"
	"github.com/berth-dev/berth/sdk"
)

// safeID is an event id usable as is in a Message-ID.
var safeID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// MessageID returns the Message-ID of event id's e-mail (with its angle
// brackets): the same event always gets the same id, so that a retried
// delivery is recognisable as a duplicate. domain is the sender's.
func MessageID(eventID, domain string) string {
	local := eventID
	if !safeID.MatchString(eventID) {
		sum := sha256.Sum256([]byte(eventID))
		local = hex.EncodeToString(sum[:16])
	}
	return "<berth-event." + local + "@" + domain + ">"
}

// Compose returns the RFC 5322 message of ev from from to to: a
// multipart/alternative with a plain-text and an HTML part.
func Compose(ev sdk.Event, from *mail.Address, to []*mail.Address, now time.Time) ([]byte, error) {
	html, err := mailrender.HTML(ev)
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range []struct{ typ, content string }{
		{"text/plain; charset=utf-8", mailrender.Text(ev)},
		{"text/html; charset=utf-8", html},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, fmt.Errorf("composing event %s: %w", ev.ID, err)
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(p.content, "\n", "\r\n"))); err != nil {
			return nil, fmt.Errorf("composing event %s: %w", ev.ID, err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("composing event %s: %w", ev.ID, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("composing event %s: %w", ev.ID, err)
	}

	date := ev.Time
	if date.IsZero() {
		date = now
	}
	rcpts := make([]string, len(to))
	for i, a := range to {
		rcpts[i] = a.String()
	}
	var msg bytes.Buffer
	for _, h := range [][2]string{
		{"From", from.String()},
		{"To", strings.Join(rcpts, ", ")},
		{"Subject", foldWords(mime.QEncoding.Encode("utf-8", mailrender.Subject(ev)))},
		{"Date", date.Format(time.RFC1123Z)},
		{"Message-ID", MessageID(ev.ID, domainOf(from.Address))},
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/alternative; boundary="` + mw.Boundary() + `"`},
		{"Auto-Submitted", "auto-generated"},
		{"X-Berth-Event-ID", mime.QEncoding.Encode("utf-8", headerText(ev.ID))},
		{"X-Berth-Event-Type", mime.QEncoding.Encode("utf-8", headerText(string(ev.Type)))},
	} {
		fmt.Fprintf(&msg, "%s: %s\r\n", h[0], h[1])
	}
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// headerText keeps s on one line.
func headerText(s string) string { return strings.Join(strings.Fields(s), " ") }

// domainOf returns the domain of an e-mail address.
func domainOf(addr string) string { return addr[strings.LastIndexByte(addr, '@')+1:] }

// foldWords folds a header value between its encoded-words, keeping lines
// under the 998-character limit however long the encoded subject is.
func foldWords(v string) string { return strings.ReplaceAll(v, "?= =?", "?=\r\n =?") }
