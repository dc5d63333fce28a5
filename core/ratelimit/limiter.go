// Package ratelimit throttles guessing: it counts failed attempts (a wrong
// password, a wrong setup token) per key — an account, a client address —
// and locks a key out for a window that doubles with every failure past a
// free allowance.
//
// An attempt is counted when it is admitted, before the caller checks the
// secret, and taken back when it succeeds. So a burst of parallel requests
// cannot all slip past the limit while their first failures are still being
// checked: the expensive check (bcrypt) is what an attacker would exploit,
// and it never runs for a locked key.
//
// State is in memory, per process, bounded by Policy.MaxKeys (the least
// recently touched key is forgotten first). Time comes from an injectable
// clock so tests advance it instead of sleeping.
//
// golang.org/x/time/rate was considered: its token bucket limits the rate of
// all attempts, while here successes must not count, failures must lock out
// for a growing window and a success must clear an account's record.
package ratelimit

import (
	"container/list"
	"sync"
	"time"
)

// Policy says how many failures a key gets for free and how long it is then
// locked out.
type Policy struct {
	// Free is how many failures in a row are allowed before the first
	// lockout.
	Free int
	// Base is the first lockout; each further failure doubles it.
	Base time.Duration
	// Max caps a lockout.
	Max time.Duration
	// Forget clears a key's failures once this long has passed since its
	// last failure (and its lockout is over); 0 means the larger of an hour
	// and four times Max.
	Forget time.Duration
	// MaxKeys bounds memory: past it, the least recently touched key is
	// dropped; 0 means 10000.
	MaxKeys int
}

// lockout is the lockout after the n-th failure in a row (0 while n is
// within the free allowance).
func (p Policy) lockout(n int) time.Duration {
	if n < p.Free {
		return 0
	}
	d := p.Base
	for i := p.Free; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Limiter counts failures per key under one Policy. It is safe for
// concurrent use.
type Limiter struct {
	policy Policy
	now    func() time.Time

	mu    sync.Mutex
	keys  map[string]*list.Element // of *record
	order *list.List               // front: most recently touched
}

// record is one key's state.
type record struct {
	key      string
	failures int
	last     time.Time // last counted attempt
	until    time.Time // locked out before this instant
}

// New returns a Limiter with policy p; now is the clock (nil: time.Now).
func New(p Policy, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	if p.MaxKeys <= 0 {
		p.MaxKeys = 10000
	}
	if p.Max < p.Base {
		p.Max = p.Base
	}
	if p.Forget <= 0 {
		p.Forget = max(time.Hour, 4*p.Max)
	}
	return &Limiter{policy: p, now: now, keys: map[string]*list.Element{}, order: list.New()}
}

// Attempt is an admitted attempt, counted as a failure until Succeeded.
type Attempt struct {
	l *Limiter
	// key is the attempt's key; until is the lockout this attempt set (zero
	// when none) and prev the one in force before it, restored by Succeeded.
	key         string
	prev, until time.Time
}

// Begin admits an attempt for key and counts it as a failure, or, while key
// is locked out, refuses it and returns how long is left.
func (l *Limiter) Begin(key string) (*Attempt, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r := l.touch(key)
	if now.Before(r.until) {
		return nil, r.until.Sub(now)
	}
	if r.failures > 0 && now.Sub(r.last) >= l.policy.Forget {
		r.failures = 0
	}
	a := &Attempt{l: l, key: key, prev: r.until}
	r.failures++
	r.last = now
	if d := l.policy.lockout(r.failures); d > 0 {
		r.until = now.Add(d)
		a.until = r.until
	}
	return a, 0
}

// Succeeded takes back the attempt's failure: the key's count goes down by
// one and a lockout this attempt caused is lifted. A nil Attempt is ignored.
func (a *Attempt) Succeeded() {
	if a == nil {
		return
	}
	l := a.l
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[a.key]
	if !ok {
		return
	}
	r := el.Value.(*record)
	if r.failures > 0 {
		r.failures--
	}
	if !a.until.IsZero() && r.until.Equal(a.until) {
		r.until = a.prev
	}
}

// Reset forgets key's failures and lockout.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[key]; ok {
		l.order.Remove(el)
		delete(l.keys, key)
	}
}

// Len is how many keys the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// touch returns key's record, created if needed, marked most recently used;
// it drops the least recently used keys past MaxKeys. Callers hold mu.
func (l *Limiter) touch(key string) *record {
	if el, ok := l.keys[key]; ok {
		l.order.MoveToFront(el)
		return el.Value.(*record)
	}
	for len(l.keys) >= l.policy.MaxKeys {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.keys, oldest.Value.(*record).key)
	}
	r := &record{key: key}
	l.keys[key] = l.order.PushFront(r)
	return r
}
