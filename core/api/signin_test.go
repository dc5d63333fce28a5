package api_test

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/ratelimit"
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

// throttledHarness is a harness whose sign-in throttle runs on a fake
// clock and which trusts the test client (0.0.0.0, as App().Test connects)
// as a proxy when trustProxy is set.
func throttledHarness(t *testing.T, trustProxy bool) (*harness, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := newHarness(t, func(o *api.Options) {
		o.SignIn = ratelimit.NewGuard(ratelimit.DefaultGuardPolicy(), clock.Now)
		if trustProxy {
			tp, err := api.ParseTrustedProxies([]string{"0.0.0.0", "127.0.0.0/8"})
			if err != nil {
				t.Fatal(err)
			}
			o.TrustedProxies = tp
		}
	})
	return h, clock
}

// retryAfter checks r is a 429 naming the reason with a Retry-After header
// and returns the header's seconds.
func retryAfter(t *testing.T, r response, scope string) time.Duration {
	t.Helper()
	if r.Status != 429 {
		t.Fatalf("status %d, want 429: %s", r.Status, r.Body)
	}
	var e api.ErrorBody
	r.json(t, &e)
	if e.Error.Code != "too_many_attempts" || !strings.Contains(e.Error.Message, scope) {
		t.Fatalf("error %+v does not name the reason (%s)", e.Error, scope)
	}
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After = %q, want whole seconds", r.Header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

func TestLoginIsThrottledPerAccount(t *testing.T) {
	h, clock := throttledHarness(t, false)
	h.setup()
	login := func(pw string) response {
		return h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": pw})
	}
	var wait time.Duration
	for i := 1; i <= 20; i++ {
		r := login("wrong password!")
		if i <= 5 {
			h.must(401, r)
			continue
		}
		wait = retryAfter(t, r, "account")
	}
	if wait != 30*time.Second {
		t.Fatalf("Retry-After %v after the first lockout, want 30s", wait)
	}
	// The right password is refused while locked.
	retryAfter(t, login(password), "account")
	clock.Advance(wait)
	h.must(200, login(password))
	// The success cleared the account: wrong passwords get 5 tries again.
	for i := 0; i < 5; i++ {
		h.must(401, login("wrong password!"))
	}
	retryAfter(t, login("wrong password!"), "account")
}

func TestLoginLockoutGrows(t *testing.T) {
	h, clock := throttledHarness(t, false)
	h.setup()
	body := map[string]any{"email": "admin@example.com", "password": "wrong password!"}
	for i := 0; i < 5; i++ {
		h.must(401, h.do("POST", "/api/v1/auth/login", "", body))
	}
	for _, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		got := retryAfter(t, h.do("POST", "/api/v1/auth/login", "", body), "account")
		if got != want {
			t.Fatalf("lockout %v, want %v", got, want)
		}
		clock.Advance(got)
		h.must(401, h.do("POST", "/api/v1/auth/login", "", body))
	}
}

func TestLoginIsThrottledPerAddress(t *testing.T) {
	h, clock := throttledHarness(t, true)
	h.setup()
	from := func(addr, email string) response {
		return h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": "wrong password!"},
			"X-Forwarded-For", addr)
	}
	// 20 failures across 20 accounts from one client, then it is locked
	// out whatever account it tries, even the right password.
	for i := 0; i < 20; i++ {
		h.must(401, from("203.0.113.9", fmt.Sprintf("user%d@example.com", i)))
	}
	retryAfter(t, from("203.0.113.9", "user99@example.com"), "address")
	retryAfter(t, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": password},
		"X-Forwarded-For", "203.0.113.9"), "address")
	// A forged left-most entry does not make another client: the proxy's
	// appended (right-most) address counts.
	retryAfter(t, from("198.51.100.1, 203.0.113.9", "user99@example.com"), "address")
	// Other clients are not affected.
	h.must(401, from("203.0.113.10", "user99@example.com"))
	h.must(200, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": password},
		"X-Forwarded-For", "203.0.113.10"))
	clock.Advance(30 * time.Second)
	h.must(401, from("203.0.113.9", "user99@example.com"))
}

func TestForwardedForIsIgnoredWithoutTrustedProxies(t *testing.T) {
	h, _ := throttledHarness(t, false)
	h.setup()
	for i := 0; i < 20; i++ {
		h.must(401, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "wrong password!"},
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i)))
	}
	retryAfter(t, h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "u99@example.com", "password": "wrong password!"},
		"X-Forwarded-For", "198.51.100.200"), "address")
}

func TestSetupIsThrottled(t *testing.T) {
	h, clock := throttledHarness(t, false)
	body := func(token string) map[string]any {
		return map[string]any{"token": token, "email": "a@example.com", "name": "A", "password": password}
	}
	for i := 0; i < 5; i++ {
		h.must(403, h.do("POST", "/api/v1/setup", "", body("setup_wrong")))
	}
	wait := retryAfter(t, h.do("POST", "/api/v1/setup", "", body(h.token)), "account")
	clock.Advance(wait)
	h.must(201, h.do("POST", "/api/v1/setup", "", body(h.token)))
}

func TestParseTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		wantErr bool
		wantNil bool
	}{
		{nil, false, true},
		{[]string{" "}, false, true},
		{[]string{"10.0.0.1", "172.16.0.0/12", "::1"}, false, false},
		{[]string{"proxy.example.com"}, true, false},
	} {
		tp, err := api.ParseTrustedProxies(tc.in)
		if (err != nil) != tc.wantErr || (err == nil && (tp == nil) != tc.wantNil) {
			t.Errorf("ParseTrustedProxies(%q) = %v, %v", tc.in, tp, err)
		}
	}
}

func TestTrustedProxiesClient(t *testing.T) {
	tp, err := api.ParseTrustedProxies([]string{"10.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr
	for _, tc := range []struct {
		name string
		tp   *api.TrustedProxies
		peer string
		xff  []string
		want string
	}{
		{"untrusted peer ignores the header", tp, "203.0.113.1", []string{"198.51.100.7"}, "203.0.113.1"},
		{"no trusted proxies", nil, "10.0.0.1", []string{"198.51.100.7"}, "10.0.0.1"},
		{"trusted peer", tp, "10.0.0.1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"right-most untrusted hop", tp, "10.0.0.1", []string{"1.1.1.1, 198.51.100.7, 10.0.0.2"}, "198.51.100.7"},
		{"several headers", tp, "::1", []string{"1.1.1.1", "198.51.100.7"}, "198.51.100.7"},
		{"garbage stops at the last vouched hop", tp, "10.0.0.1", []string{"198.51.100.7, junk, 10.0.0.3"}, "10.0.0.3"},
		{"no header", tp, "10.0.0.1", nil, "10.0.0.1"},
		{"mapped v4 peer", tp, "::ffff:10.0.0.1", []string{"198.51.100.7"}, "198.51.100.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.tp.Client(ip(tc.peer), tc.xff); got != ip(tc.want) {
				t.Fatalf("Client = %v, want %v", got, tc.want)
			}
		})
	}
}
