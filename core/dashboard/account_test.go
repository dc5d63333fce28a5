package dashboard

import (
	"net/url"
	"strings"
	"testing"
)

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	h := newHarness(t)
	c := h.setup()
	other := h.signIn("admin@example.com")
	key := newClient(h)
	keys := c.must(200, c.do("GET", "/keys", nil))
	if !strings.Contains(keys.Body, `action="/account/password"`) {
		t.Fatal("the keys page has no password form")
	}
	// Create a key through the API to hold its token.
	r := c.json("POST", "/api/v1/api-keys", `{"name": "script"}`, "X-CSRF-Token", c.csrf)
	if r.Status != 201 {
		t.Fatalf("create key: %d %s", r.Status, r.Body)
	}
	key.bearer = between(r.Body, `"token":"`, `"`)

	wrong := c.post("/account/password", url.Values{"current_password": {"not my password"}, "password": {"a brand new passphrase"}})
	if wrong.Status != 422 || !strings.Contains(wrong.Body, "is wrong") {
		t.Fatalf("wrong current password: %d", wrong.Status)
	}
	c.must(303, c.post("/account/password", url.Values{"current_password": {password}, "password": {"a brand new passphrase"}}))
	c.must(200, c.do("GET", "/", nil))
	if r := other.do("GET", "/", nil); r.Status != 303 || !strings.HasPrefix(r.Location(), "/login") {
		t.Fatalf("the other session still works: %d %q", r.Status, r.Location())
	}
	if r := key.json("GET", "/api/v1/auth/session", ""); r.Status != 200 {
		t.Fatalf("the API key was revoked without asking: %d", r.Status)
	}
	c.must(200, c.do("GET", "/keys", nil))
	c.must(303, c.post("/account/password", url.Values{"current_password": {"a brand new passphrase"},
		"password": {"yet another passphrase"}, "revoke_api_keys": {"yes"}}))
	if r := key.json("GET", "/api/v1/auth/session", ""); r.Status != 401 {
		t.Fatalf("the API key survived revoke_api_keys: %d", r.Status)
	}
	c.must(200, c.do("GET", "/", nil))
}

// between returns the text of s after start up to end.
func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}
