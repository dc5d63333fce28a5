package proxystats

import (
	"fmt"
	"sync"
	"time"
)

// Delta is the traffic of one service between two readings.
type Delta struct {
	// Requests answered in between.
	Requests uint64
	// Errors are the 5xx responses among them.
	Errors uint64
	// Elapsed is the time between the readings.
	Elapsed time.Duration
}

// ErrorRate is Errors/Requests, or 0 without requests.
func (d Delta) ErrorRate() float64 {
	if d.Requests == 0 {
		return 0
	}
	return float64(d.Errors) / float64(d.Requests)
}

// Between returns the traffic from the reading prev (taken at from) to the
// reading cur (taken at to). A counter lower than before means Traefik
// started it again (a restart, or a service removed and added back): its
// whole current value is then counted as new, as Prometheus' increase()
// does.
func Between(prev, cur Counts, from, to time.Time) Delta {
	return Delta{Requests: increase(prev.Requests, cur.Requests), Errors: increase(prev.Errors, cur.Errors), Elapsed: to.Sub(from)}
}

func increase(prev, cur uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// sample is one reading of a service's counters.
type sample struct {
	at     time.Time
	counts Counts
}

// Window keeps the recent readings of one service (or of a sum of
// services, see Scrape.Sum) and answers questions about the last D of
// them. Add readings regularly, e.g. every few seconds: the answers are
// only as precise as the spacing of the readings. It is safe for
// concurrent use.
type Window struct {
	mu      sync.Mutex
	keep    time.Duration
	samples []sample
}

// NewWindow returns a Window that keeps enough readings to answer for
// durations up to keep.
func NewWindow(keep time.Duration) *Window {
	return &Window{keep: keep}
}

// Add records a reading. Readings not newer than the last one are
// ignored, so the window stays in time order.
func (w *Window) Add(at time.Time, c Counts) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.samples); n > 0 && !at.After(w.samples[n-1].at) {
		return
	}
	w.samples = append(w.samples, sample{at: at, counts: c})
	// Keep the newest reading at or before at-keep: it starts the
	// longest window.
	start := 0
	for i := range w.samples {
		if !w.samples[i].at.After(at.Add(-w.keep)) {
			start = i
		}
	}
	if start > 0 {
		w.samples = append(w.samples[:0], w.samples[start:]...)
	}
}

// Over returns the traffic over the last d, from the newest reading at or
// before d before the latest one to the latest one, adding up the steps
// in between so counter resets are counted right. full is false when the
// readings do not reach back d (fewer than two readings, or the first is
// too recent); Delta then covers what there is.
func (w *Window) Over(d time.Duration) (delta Delta, full bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.samples)
	if n < 2 {
		return Delta{}, false
	}
	last := w.samples[n-1]
	start := 0
	for i := range n - 1 {
		if !w.samples[i].at.After(last.at.Add(-d)) {
			start = i
			full = true
		}
	}
	for i := start + 1; i < n; i++ {
		step := Between(w.samples[i-1].counts, w.samples[i].counts, w.samples[i-1].at, w.samples[i].at)
		delta.Requests += step.Requests
		delta.Errors += step.Errors
	}
	delta.Elapsed = last.at.Sub(w.samples[start].at)
	return delta, full
}

// ErrorRate is the error rate over the last d (see Over); ok is false
// while the readings do not reach back d.
func (w *Window) ErrorRate(d time.Duration) (rate float64, ok bool) {
	delta, full := w.Over(d)
	return delta.ErrorRate(), full
}

// Verdict is the answer of Window.Below.
type Verdict struct {
	// OK is true when the readings reach back d, there were at least the
	// minimum number of requests, and the error rate was at most the
	// maximum.
	OK bool
	// Delta is the traffic over the window.
	Delta Delta
	// Reason says why OK is false, e.g. "error rate 0.0500 is above
	// 0.0100 (5 of 100 requests)"; empty when OK.
	Reason string
}

// Below answers "has the error rate stayed at most maxRate for the whole
// last d, over at least minRequests requests": the errors and requests
// counted from the reading d before the latest one to the latest one,
// which must be at least d apart. A canary is judged on this aggregate,
// so a lone error among few requests in one short step does not decide.
func (w *Window) Below(d time.Duration, maxRate float64, minRequests uint64) Verdict {
	delta, full := w.Over(d)
	v := Verdict{Delta: delta}
	switch {
	case !full:
		v.Reason = fmt.Sprintf("readings cover %s of %s", delta.Elapsed, d)
	case delta.Requests < minRequests:
		v.Reason = fmt.Sprintf("%d requests in %s, need at least %d", delta.Requests, delta.Elapsed, minRequests)
	case delta.ErrorRate() > maxRate:
		v.Reason = fmt.Sprintf("error rate %.4f is above %.4f (%d of %d requests)", delta.ErrorRate(), maxRate, delta.Errors, delta.Requests)
	default:
		v.OK = true
	}
	return v
}
