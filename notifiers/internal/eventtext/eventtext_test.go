package eventtext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestPlainLimit(t *testing.T) {
	ev := plugintest.SampleEvent(sdk.EventDeployFailed)
	full := Plain(ev)
	for _, want := range []string{ev.Message, "Project: shop", "environment: production", ev.URL, "Event ID: evt-deploy.failed"} {
		if !strings.Contains(full, want) {
			t.Errorf("Plain lacks %q:\n%s", want, full)
		}
	}
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"fits", 10000, full},
		{"cut", 60, ""},
		{"smaller than the id line", 5, "\n\nEvent ID: evt-deploy.failed"},
	}
	for _, tt := range tests {
		got := PlainLimit(ev, tt.n)
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: PlainLimit = %q, want %q", tt.name, got, tt.want)
		}
		if !strings.HasSuffix(got, "\n\nEvent ID: evt-deploy.failed") {
			t.Errorf("%s: PlainLimit = %q lost the event id", tt.name, got)
		}
		if tt.name == "cut" && (utf8.RuneCountInString(got) != tt.n || !strings.Contains(got, "…")) {
			t.Errorf("cut: %d runes %q, want %d ending the text with …", utf8.RuneCountInString(got), got, tt.n)
		}
	}
}
