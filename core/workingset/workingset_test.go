package workingset

import (
	"testing"
	"time"
)

func TestIdleWatch(t *testing.T) {
	type reading struct {
		at   time.Duration // since start
		cpu  time.Duration // cumulative
		trim bool
	}
	tests := []struct {
		name     string
		readings []reading
	}{
		{"idle after start trims once", []reading{
			{2 * time.Second, 0, false}, {10 * time.Second, 0, true}, {12 * time.Second, 0, false}, {30 * time.Second, 0, false}}},
		{"busy start waits for quiet", []reading{
			{2 * time.Second, time.Second, false}, {4 * time.Second, 2 * time.Second, false},
			{12 * time.Second, 2 * time.Second, false}, {14 * time.Second, 2 * time.Second, true}}},
		{"a burst after a trim arms it again", []reading{
			{10 * time.Second, 0, true}, {12 * time.Second, 500 * time.Millisecond, false},
			{20 * time.Second, 500 * time.Millisecond, false}, {22 * time.Second, 500 * time.Millisecond, true},
			{40 * time.Second, 500 * time.Millisecond, false}}},
		{"light background work counts as idle", []reading{
			{2 * time.Second, 20 * time.Millisecond, false}, {10 * time.Second, 100 * time.Millisecond, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(1000, 0)
			w := newIdleWatch(10*time.Second, 0.02, start, 0)
			for i, r := range tc.readings {
				if got := w.observe(start.Add(r.at), r.cpu); got != r.trim {
					t.Fatalf("reading %d at %v: trim = %v, want %v", i, r.at, got, r.trim)
				}
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
