package dashboard

import (
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the sign-in tests advance instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustThrottle checks r is the form answered with 429, a Retry-After header
// and the reason, and returns the wait.
func mustThrottle(t *testing.T, r response, reason string) time.Duration {
	t.Helper()
	if r.Status != 429 || !strings.Contains(r.Body, "too many failed attempts for "+reason) {
		t.Fatalf("status %d, want 429 naming %q:\n%.2000s", r.Status, reason, r.Body)
	}
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

func TestLoginFormIsThrottled(t *testing.T) {
	h := newHarness(t)
	h.setup()
	c := newClient(h)
	c.must(200, c.do("GET", "/login", nil))
	login := func(pw string) response {
		return c.post("/login", url.Values{"email": {"admin@example.com"}, "password": {pw}})
	}
	var wait time.Duration
	for i := 1; i <= 20; i++ {
		r := login("wrong password!")
		if i <= 5 {
			c.must(401, r)
			continue
		}
		wait = mustThrottle(t, r, "this account")
	}
	mustThrottle(t, login(password), "this account")
	// The API counts the same failures.
	r := c.json("POST", "/api/v1/auth/login", `{"email": "admin@example.com", "password": "`+password+`"}`)
	if r.Status != 429 {
		t.Fatalf("API login while the account is locked: %d %s", r.Status, r.Body)
	}
	h.clock.Advance(wait)
	c.must(303, login(password))
}

func TestSetupFormIsThrottled(t *testing.T) {
	h := newHarness(t)
	c := newClient(h)
	c.must(200, c.do("GET", "/setup", nil))
	form := func(token string) url.Values {
		return url.Values{"token": {token}, "email": {"admin@example.com"}, "name": {"Admin"}, "password": {password}}
	}
	for i := 0; i < 5; i++ {
		c.must(403, c.post("/setup", form("setup_wrong")))
	}
	wait := mustThrottle(t, c.post("/setup", form(h.setupToken)), "this account")
	h.clock.Advance(wait)
	c.must(303, c.post("/setup", form(h.setupToken)))
}
