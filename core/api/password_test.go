package api_test

import (
	"testing"

	"github.com/berth-dev/berth/core/api"
)

// signedIn is a browser session: its cookie and CSRF token.
type signedIn struct{ cookie, csrf string }

func (h *harness) login(pw string) signedIn {
	h.t.Helper()
	r := h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": pw}))
	var sess api.SessionResponse
	r.json(h.t, &sess)
	return signedIn{cookie: sessionCookie(r), csrf: sess.CSRFToken}
}

// valid reports whether the session still authenticates.
func (h *harness) valid(s signedIn) bool {
	h.t.Helper()
	return h.do("GET", "/api/v1/auth/session", "", nil, "Cookie", s.cookie).Status == 200
}

// keyValid reports whether the API key still authenticates.
func (h *harness) keyValid(key string) bool {
	h.t.Helper()
	return h.do("GET", "/api/v1/auth/session", key, nil).Status == 200
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	h := newHarness(t)
	key := h.setup()
	current, other1, other2 := h.login(password), h.login(password), h.login(password)

	// A change of name alone ends nothing.
	h.must(200, h.do("PATCH", "/api/v1/users/me", "", map[string]any{"name": "Admin Two"},
		"Cookie", current.cookie, api.CSRFHeader, current.csrf))
	if !h.valid(other1) || !h.valid(other2) {
		t.Fatal("a change of name ended sessions")
	}
	// revoke_api_keys needs a new password.
	wantField(t, h.do("PATCH", "/api/v1/users/me", "", map[string]any{"revoke_api_keys": true},
		"Cookie", current.cookie, api.CSRFHeader, current.csrf), 422, "revoke_api_keys")

	const second = "a brand new passphrase"
	h.must(200, h.do("PATCH", "/api/v1/users/me", "", map[string]any{"password": second, "current_password": password},
		"Cookie", current.cookie, api.CSRFHeader, current.csrf))
	if !h.valid(current) {
		t.Fatal("the session that changed the password was ended")
	}
	if h.valid(other1) || h.valid(other2) {
		t.Fatal("other sessions survived the password change")
	}
	if !h.keyValid(key) {
		t.Fatal("API keys were revoked without revoke_api_keys")
	}

	// With revoke_api_keys the keys go too.
	const third = "yet another passphrase"
	other := h.login(second)
	h.must(200, h.do("PATCH", "/api/v1/users/me", "", map[string]any{"password": third, "current_password": second, "revoke_api_keys": true},
		"Cookie", current.cookie, api.CSRFHeader, current.csrf))
	if h.keyValid(key) {
		t.Fatal("the API key survived revoke_api_keys")
	}
	if !h.valid(current) || h.valid(other) {
		t.Fatal("sessions: the current one must stay, the other must end")
	}
	h.must(401, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": second}))
	h.login(third)
}

func TestPasswordChangeWithAnAPIKeyKeepsThatKey(t *testing.T) {
	h := newHarness(t)
	keep := h.setup()
	s := h.login(password)
	other := h.apiKeyFromSession(h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": password})))
	h.must(200, h.do("PATCH", "/api/v1/users/me", keep, map[string]any{"password": "a brand new passphrase",
		"current_password": password, "revoke_api_keys": true}))
	if !h.keyValid(keep) {
		t.Fatal("the key that changed the password was revoked")
	}
	if h.keyValid(other) || h.valid(s) {
		t.Fatal("another key or a session survived")
	}
}
