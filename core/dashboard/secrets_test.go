package dashboard

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestPluginSecretsAreNeverRendered(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	const secret = "whsec-never-rendered-4c1d"
	c.must(200, c.do("GET", "/plugins/notifier.webhook", nil))
	r := c.must(200, c.post("/plugins/notifier.webhook", url.Values{"s.url": {"https://hooks.example.com"}, "s.secret": {secret}}))
	pages := map[string]string{"the answer to the save": r.Body}
	form := c.must(200, c.do("GET", "/plugins/notifier.webhook", nil)).Body
	pages["the settings page"] = form
	pages["the API"] = c.json("GET", "/api/v1/plugins/notifier.webhook/settings", "").Body
	for where, body := range pages {
		if strings.Contains(body, secret) {
			t.Fatalf("the secret is in %s", where)
		}
	}
	if !strings.Contains(form, `type="password" name="s.secret" value="" minlength="8" placeholder="saved; leave empty to keep"`) {
		t.Errorf("the form does not say the secret is saved")
	}
	if !strings.Contains(pages["the API"], `"secret":"********"`) {
		t.Errorf("the API does not mark the saved secret: %s", pages["the API"])
	}
	// Saving again with the secret left empty keeps it.
	c.must(200, c.post("/plugins/notifier.webhook", url.Values{"s.url": {"https://hooks2.example.com"}, "s.secret": {""}}))
	saved, err := h.store.PluginSettings(context.Background(), "notifier.webhook")
	if err != nil || !strings.Contains(string(saved), secret) || !strings.Contains(string(saved), "hooks2") {
		t.Fatalf("saved %s (%v): the secret must be kept and the URL changed", saved, err)
	}
	// A new secret replaces it.
	c.must(200, c.post("/plugins/notifier.webhook", url.Values{"s.url": {"https://hooks2.example.com"}, "s.secret": {"another-secret"}}))
	if saved, _ = h.store.PluginSettings(context.Background(), "notifier.webhook"); !strings.Contains(string(saved), "another-secret") {
		t.Fatalf("saved %s: the new secret was not saved", saved)
	}
}

func TestSecretFieldsInForms(t *testing.T) {
	s, err := parseSchema([]byte(`{"type": "object", "required": ["token"], "properties": {
		"token": {"type": "string", "writeOnly": true},
		"pin": {"type": "integer", "writeOnly": true},
		"mode": {"type": "string", "enum": ["a", "b"], "writeOnly": true}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	f := buildForm(s, map[string]string{"token": "T0K", "pin": "1234", "mode": "b"}, nil)
	f.keepSecrets(map[string]bool{"token": true})
	for _, field := range f.Fields {
		if field.Control != "password" || field.Value != "" || len(field.Options) != 0 {
			t.Errorf("secret %s rendered as %s %q %v", field.Name, field.Control, field.Value, field.Options)
		}
		if field.Name == "token" && (field.Required || field.Placeholder == "") {
			t.Errorf("a saved secret is still required: %+v", field)
		}
	}
	for _, tc := range []struct {
		name    string
		saved   map[string]bool
		inputs  map[string]string
		wantDoc string
		wantErr string
	}{
		{"saved secret left empty is kept", map[string]bool{"token": true}, map[string]string{}, "map[]", ""},
		{"unsaved required secret is required", nil, map[string]string{}, "map[]", "token"},
		{"new values are converted", nil, map[string]string{"s.token": "x", "s.pin": "42", "s.mode": "a"}, "map[mode:a pin:42 token:x]", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, _, errs := parseSettingsKeeping(s, func(k string) string { return tc.inputs[k] }, tc.saved)
			if got := fmt.Sprint(doc); got != tc.wantDoc {
				t.Errorf("doc = %s, want %s", got, tc.wantDoc)
			}
			if _, bad := errs[tc.wantErr]; (tc.wantErr != "") != bad || (tc.wantErr == "" && len(errs) > 0) {
				t.Errorf("errs = %v, want an error on %q", errs, tc.wantErr)
			}
		})
	}
}
