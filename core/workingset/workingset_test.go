package workingset

import (
	"fmt"
	"testing"
	"time"
)

func TestIdleWatch(t *testing.T) {
	// Each step is one 2 s check; the value is the CPU time used in it.
	const ms = time.Millisecond
	idle := func(n int) []time.Duration { return make([]time.Duration, n) }
	cat := func(parts ...[]time.Duration) []time.Duration {
		var out []time.Duration
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// A metrics round of 90 ms every 15 s (7–8 checks): 0.6 % of a core.
	periodic := func(rounds int) []time.Duration {
		var out []time.Duration
		for i := 0; i < rounds; i++ {
			out = append(out, 90*ms, 0, 0, 0, 0, 0, 0)
		}
		return out
	}
	tests := []struct {
		name  string
		steps []time.Duration
		trims []int // the steps (0-based) that trim
		// trimCost is the CPU time each trim takes (default 100 ms).
		trimCost time.Duration
	}{
		{"idle after start trims once", idle(20), []int{4}, 0},
		{"a busy start waits for a quiet period", cat([]time.Duration{time.Second, time.Second}, idle(12)), []int{6}, 0},
		{"a burst after a trim arms it again", cat(idle(8), []time.Duration{500 * ms}, idle(12)), []int{4, 13}, 0},
		{"periodic light work is idle", cat(idle(5), periodic(6)), []int{4}, 0},
		{"a trim's own work does not arm the next", idle(40), []int{4}, 400 * ms},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			w := newIdleWatch(10*time.Second, 0.1, start, 0)
			var cpu time.Duration
			var got []int
			for i, used := range tc.steps {
				cpu += used
				now := start.Add(time.Duration(i+1) * 2 * time.Second)
				if w.observe(now, cpu) {
					got = append(got, i)
					cpu += max(tc.trimCost, 100*ms) // the trim's own work
					w.restart(now, cpu)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.trims) {
				t.Errorf("trims at steps %v, want %v", got, tc.trims)
			}
		})
	}
}

func TestExecutableMapping(t *testing.T) {
	tests := []struct {
		line   string
		lo, hi uintptr
		ok     bool
	}{
		{"00400000-01142000 r-xp 00000000 fd:01 4242 /usr/local/bin/berth", 0x400000, 0x1142000, true},
		{"00400000-01142000 r-xp 00000000 fd:01 4242 /usr/local/bin/berth (deleted)", 0x400000, 0x1142000, true},
		{"01142000-02079000 r--p 00d42000 fd:01 17 /usr/lib/libc.so.6", 0, 0, false},
		{"7f90b4f90000-7f90b5300000 rw-p 00000000 00:00 0", 0, 0, false},
		{"garbage", 0, 0, false},
	}
	for _, tc := range tests {
		lo, hi, ok := executableMapping(tc.line, 4242)
		if ok != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("%q: got %x-%x %v, want %x-%x %v", tc.line, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}
