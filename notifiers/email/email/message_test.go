package email

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestCompose(t *testing.T) {
	ev := plugintest.SampleEvent(sdk.EventDeployFailed)
	ev.Title = strings.Repeat("Déploiement échoué ", 6) + "\r\nBcc: evil@example.com"
	from, _ := mail.ParseAddress("berth <berth@example.com>")
	to, _ := mail.ParseAddress("Zoë <zoe@example.com>")
	raw, err := Compose(ev, from, []*mail.Address{to}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d has %d characters", i, len(line))
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" {
		t.Error("the title injected a Bcc header")
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || !strings.HasPrefix(subject, "Déploiement échoué Déploiement") || !strings.HasSuffix(subject, "Bcc: evil@example.com") {
		t.Errorf("Subject %q (%v)", subject, err)
	}
	if m.Header.Get("Message-ID") != "<berth-event.evt-deploy.failed@example.com>" {
		t.Errorf("Message-ID %q", m.Header.Get("Message-ID"))
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p) // multipart decodes quoted-printable
		types = append(types, p.Header.Get("Content-Type"))
		if !strings.Contains(string(body), "Event ID: evt-deploy.failed") {
			t.Errorf("part %s lacks the event id", p.Header.Get("Content-Type"))
		}
	}
	if strings.Join(types, ",") != "text/plain; charset=utf-8,text/html; charset=utf-8" {
		t.Errorf("parts %v, want plain text then HTML", types)
	}
}
