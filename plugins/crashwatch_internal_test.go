package plugins

import (
	"testing"
	"time"
)

func TestCrashWatch(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		crashes []time.Duration // offsets from t0, all for plugin "a"
		want    []bool          // report after each crash
	}{
		{"two crashes", []time.Duration{0, time.Minute}, []bool{false, false}},
		{"three within ten minutes", []time.Duration{0, time.Minute, 9 * time.Minute}, []bool{false, false, true}},
		{"three spread wider", []time.Duration{0, 6 * time.Minute, 11 * time.Minute}, []bool{false, false, false}},
		{"at most once an hour", []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 50 * time.Minute,
			55 * time.Minute, 58 * time.Minute, 63 * time.Minute}, []bool{false, false, true, false, false, false, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w crashWatch
			for i, off := range tt.crashes {
				if _, got := w.note("a", t0.Add(off)); got != tt.want[i] {
					t.Errorf("crash %d at +%s: report = %v, want %v", i, off, got, tt.want[i])
				}
			}
			if n, rep := w.note("b", t0); n != 1 || rep {
				t.Errorf("plugins are counted apart: %d, %v", n, rep)
			}
		})
	}
}
