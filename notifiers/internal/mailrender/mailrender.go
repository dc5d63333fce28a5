// Package mailrender renders a berth notification event as an e-mail: a
// subject from its title, a plain-text body and an HTML body (escaped by
// html/template), shared by notifier.email and notifier.resend.
package mailrender

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"

	"github.com/berth-dev/berth/notifiers/internal/eventtext"
	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/sdk"
)

// MaxSubject is the most runes of a subject: longer titles are cut.
const MaxSubject = 200

// Subject returns the subject line: the event's title on one line.
func Subject(ev sdk.Event) string {
	s := strings.Join(strings.Fields(ev.Title), " ")
	if s == "" {
		s = "berth: " + string(ev.Type)
	}
	return httpsend.Truncate(s, MaxSubject)
}

// Text returns the plain-text body.
func Text(ev sdk.Event) string { return eventtext.Plain(ev) + "\n" }

var page = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family: sans-serif">
<h2 style="color: {{.Color}}">{{.Title}}</h2>
<p style="white-space: pre-wrap">{{.Message}}</p>
{{- if .Fields}}
<table cellpadding="4">
{{- range .Fields}}
<tr><th align="left">{{.Name}}</th><td>{{.Value}}</td></tr>
{{- end}}
</table>
{{- end}}
{{- if .URL}}
<p><a href="{{.URL}}">Open in berth</a></p>
{{- end}}
<p style="color: #888; font-size: small">Event ID: {{.ID}}</p>
</body></html>
`))

// HTML returns the HTML body; every value of the event is escaped.
func HTML(ev sdk.Event) (string, error) {
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		Title, Message, URL, ID string
		Color                   template.CSS
		Fields                  []eventview.Field
	}{ev.Title, ev.Message, ev.URL, ev.ID, color(ev.Severity), eventview.Fields(ev)})
	if err != nil {
		return "", fmt.Errorf("rendering the HTML body of event %s: %w", ev.ID, err)
	}
	return b.String(), nil
}

func color(s sdk.Severity) template.CSS {
	switch s {
	case sdk.SeverityError:
		return "#c0392b"
	case sdk.SeverityWarning:
		return "#d68910"
	default:
		return "#2e86c1"
	}
}
