package ratelimit

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestPolicyLockout(t *testing.T) {
	p := Policy{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, 0}, {4, 0}, {5, 30 * time.Second}, {6, time.Minute}, {7, 2 * time.Minute},
		{9, 8 * time.Minute}, {10, 15 * time.Minute}, {1000, 15 * time.Minute},
	} {
		if got := p.lockout(tc.n); got != tc.want {
			t.Errorf("lockout(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestLimiterLocksOutAndGrows(t *testing.T) {
	c := newClock()
	l := New(Policy{Free: 3, Base: 10 * time.Second, Max: time.Minute, Forget: time.Hour}, c.Now)
	for i := 1; i <= 3; i++ {
		if a, wait := l.Begin("k"); a == nil {
			t.Fatalf("attempt %d refused (wait %v), want admitted", i, wait)
		}
	}
	if a, wait := l.Begin("k"); a != nil || wait != 10*time.Second {
		t.Fatalf("4th attempt: admitted=%v wait=%v, want refused for 10s", a != nil, wait)
	}
	c.Advance(9 * time.Second)
	if _, wait := l.Begin("k"); wait != time.Second {
		t.Fatalf("after 9s: wait %v, want 1s", wait)
	}
	c.Advance(time.Second)
	if a, _ := l.Begin("k"); a == nil {
		t.Fatal("after the lockout: refused, want admitted")
	}
	if _, wait := l.Begin("k"); wait != 20*time.Second {
		t.Fatalf("second lockout %v, want 20s (doubled)", wait)
	}
	if a, _ := l.Begin("other"); a == nil {
		t.Fatal("another key is refused")
	}
}

func TestLimiterSucceededTakesTheAttemptBack(t *testing.T) {
	c := newClock()
	l := New(Policy{Free: 2, Base: time.Minute, Max: time.Hour}, c.Now)
	a1, _ := l.Begin("k")
	a2, _ := l.Begin("k") // the second counted attempt sets a lockout
	if _, wait := l.Begin("k"); wait == 0 {
		t.Fatal("not locked after 2 attempts")
	}
	a2.Succeeded()
	a, _ := l.Begin("k")
	if a == nil {
		t.Fatal("still locked after the attempt that caused it succeeded")
	}
	a1.Succeeded()
	a.Succeeded()
	var nilAttempt *Attempt
	nilAttempt.Succeeded() // no panic
	for i := 0; i < 2; i++ {
		if a, _ := l.Begin("k"); a == nil {
			t.Fatalf("attempt %d refused after every earlier one succeeded", i+1)
		}
	}
}

func TestLimiterForgetsOldFailures(t *testing.T) {
	c := newClock()
	l := New(Policy{Free: 2, Base: time.Minute, Max: time.Hour, Forget: 2 * time.Hour}, c.Now)
	l.Begin("k")
	c.Advance(3 * time.Hour)
	l.Begin("k")
	if a, _ := l.Begin("k"); a == nil {
		t.Fatal("an old failure still counts")
	}
}

func TestLimiterBoundsMemory(t *testing.T) {
	c := newClock()
	l := New(Policy{Free: 1, Base: time.Minute, Max: time.Minute, MaxKeys: 100}, c.Now)
	l.Begin("victim")
	l.Begin("recent")
	for i := 0; i < 99; i++ {
		l.Begin(fmt.Sprint("k", i))
		l.Begin("recent") // touched: stays
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	if _, wait := l.Begin("recent"); wait == 0 {
		t.Fatal("the most recently used key was evicted")
	}
	if a, _ := l.Begin("victim"); a == nil {
		t.Fatal("the least recently used key was kept")
	}
}

func TestLimiterConcurrentBurstIsBounded(t *testing.T) {
	l := New(Policy{Free: 5, Base: time.Minute, Max: time.Hour}, newClock().Now)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if a, _ := l.Begin("k"); a != nil {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if admitted != 5 {
		t.Fatalf("%d of 200 parallel attempts admitted, want 5", admitted)
	}
}

func TestGuard(t *testing.T) {
	c := newClock()
	g := NewGuard(DefaultGuardPolicy(), c.Now)
	// The account locks after 5 failures, whatever the address.
	for i := 0; i < 5; i++ {
		if _, err := g.Begin("Ann@Example.com", fmt.Sprintf("10.0.0.%d", i)); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := g.Begin(" ann@example.com", "10.0.1.1")
	var d *Denied
	if !errors.As(err, &d) || d.Scope != ScopeAccount || d.Seconds() != 30 {
		t.Fatalf("6th attempt: %v, want the account locked for 30s", err)
	}
	// A locked account's refusals do not count against the address.
	for i := 0; i < 30; i++ {
		g.Begin("ann@example.com", "10.0.2.2")
	}
	if _, err := g.Begin("bob@example.com", "10.0.2.2"); err != nil {
		t.Fatalf("address charged for refused attempts: %v", err)
	}
	// After the window the right password gets in and clears the account.
	c.Advance(30 * time.Second)
	p, err := g.Begin("ann@example.com", "10.0.1.1")
	if err != nil {
		t.Fatalf("after the lockout: %v", err)
	}
	p.Succeeded()
	for i := 0; i < 5; i++ {
		if _, err := g.Begin("ann@example.com", "10.0.3.3"); err != nil {
			t.Fatalf("after a success, attempt %d: %v", i+1, err)
		}
	}
}

func TestGuardAddressAcrossAccounts(t *testing.T) {
	g := NewGuard(DefaultGuardPolicy(), newClock().Now)
	for i := 0; i < 20; i++ {
		if _, err := g.Begin(fmt.Sprintf("user%d@example.com", i), "2001:db8::1"); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	// Another address in the same /64 is the same client.
	_, err := g.Begin("someone@example.com", "2001:db8::ffff")
	var d *Denied
	if !errors.As(err, &d) || d.Scope != ScopeAddress {
		t.Fatalf("21st attempt from the /64: %v, want the address locked", err)
	}
	if _, err := g.Begin("someone@example.com", "2001:db8:0:1::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"not an ip", "not an ip"},
	} {
		if got := AddressKey(tc.in); got != tc.want {
			t.Errorf("AddressKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
