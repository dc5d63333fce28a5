package gitfixture

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// CheckParsed fails the test unless a ParseWebhook answer (r, err) is what
// a case expects: ignored, without an event, for a reason containing
// ignored when ignored is not ""; else exactly the event want.
func CheckParsed(t testing.TB, r *sdk.ParseWebhookResponse, err error, ignored string, want *sdk.WebhookEvent) {
	t.Helper()
	if err != nil {
		t.Fatalf("ParseWebhook: %v", err)
	}
	if ignored != "" {
		if !r.Ignored || r.Event != nil || !strings.Contains(r.IgnoredReason, ignored) {
			t.Errorf("ParseWebhook = %+v, want ignored with a reason containing %q", r, ignored)
		}
		return
	}
	if r.Ignored {
		t.Fatalf("ParseWebhook ignored the event: %s", r.IgnoredReason)
	}
	if !reflect.DeepEqual(r.Event, want) {
		t.Errorf("ParseWebhook =\n%s\nwant\n%s", show(r.Event), show(want))
	}
}

// show is v as indented JSON.
func show(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
