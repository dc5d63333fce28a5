package mailrender

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestHTMLEscapes(t *testing.T) {
	ev := plugintest.SampleEvent(sdk.EventDeployFailed)
	ev.Title = `<script>alert(1)</script>`
	ev.Message = `a & b <b>`
	ev.URL = `javascript:alert(1)`
	ev.Fields = map[string]string{"<k>": `"v"`}
	h, err := HTML(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script>", "<b>", `href="javascript:`, "<k>"} {
		if strings.Contains(h, bad) {
			t.Errorf("HTML holds unescaped %q:\n%s", bad, h)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "a &amp; b &lt;b&gt;", "Event ID: evt-deploy.failed", "#c0392b"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q:\n%s", want, h)
		}
	}
}

func TestSubject(t *testing.T) {
	tests := []struct{ title, want string }{
		{"Deploy\r\nBcc: x@example.com", "Deploy Bcc: x@example.com"},
		{"", "berth: test"},
		{strings.Repeat("é", 300), strings.Repeat("é", MaxSubject-1) + "…"},
	}
	for _, tt := range tests {
		if got := Subject(sdk.Event{Type: sdk.EventTest, Title: tt.title}); got != tt.want {
			t.Errorf("Subject(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}
