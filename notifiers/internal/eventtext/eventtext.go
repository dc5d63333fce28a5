// Package eventtext renders a berth notification event as plain text (its
// message, the labelled values of eventview, its link and its id) for
// notifiers whose service shows text.
package eventtext

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/berth-dev/berth/notifiers/internal/eventview"
	"github.com/berth-dev/berth/notifiers/internal/httpsend"
	"github.com/berth-dev/berth/sdk"
)

// IDLine is the line every message ends with, naming the event id so that
// a reader (or a deduplicating service) can tell repeats apart.
func IDLine(ev sdk.Event) string { return "Event ID: " + ev.ID }

// Plain renders the event's message, facts, link and id as plain text
// (without the title, which most services show apart).
func Plain(ev sdk.Event) string {
	var b strings.Builder
	b.WriteString(ev.Message)
	if fs := eventview.Fields(ev); len(fs) > 0 {
		b.WriteString("\n")
		for _, f := range fs {
			fmt.Fprintf(&b, "\n%s: %s", f.Name, f.Value)
		}
	}
	if ev.URL != "" {
		b.WriteString("\n\n" + ev.URL)
	}
	b.WriteString("\n\n" + IDLine(ev))
	return b.String()
}

// PlainLimit is Plain cut to at most n runes: the message and facts are
// shortened (with an ellipsis) so that the event id line always remains.
func PlainLimit(ev sdk.Event, n int) string {
	full := Plain(ev)
	if utf8.RuneCountInString(full) <= n {
		return full
	}
	tail := "\n\n" + IDLine(ev)
	return httpsend.Truncate(strings.TrimSuffix(full, tail), n-utf8.RuneCountInString(tail)) + tail
}
