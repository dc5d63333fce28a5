package proxystats

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func TestBetween(t *testing.T) {
	for _, tc := range []struct {
		name      string
		prev, cur Counts
		want      Delta
		rate      float64
	}{
		{"no traffic", Counts{10, 1}, Counts{10, 1}, Delta{0, 0, 5 * time.Second}, 0},
		{"some errors", Counts{100, 2}, Counts{300, 12}, Delta{200, 10, 5 * time.Second}, 0.05},
		{"only errors", Counts{0, 0}, Counts{4, 4}, Delta{4, 4, 5 * time.Second}, 1},
		{"restart resets both", Counts{500, 20}, Counts{30, 3}, Delta{30, 3, 5 * time.Second}, 0.1},
		{"errors reset alone", Counts{500, 20}, Counts{510, 0}, Delta{10, 0, 5 * time.Second}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Between(tc.prev, tc.cur, at(0), at(5))
			if got != tc.want {
				t.Errorf("Between = %+v, want %+v", got, tc.want)
			}
			if r := got.ErrorRate(); r != tc.rate {
				t.Errorf("ErrorRate = %v, want %v", r, tc.rate)
			}
		})
	}
}

// fill returns a window with a reading every 10 seconds from 0 to 60: 100
// requests per step, with errs[i] errors in step i (ending at 10*(i+1)).
func fill(keep time.Duration, errs []uint64) *Window {
	w := NewWindow(keep)
	var c Counts
	w.Add(at(0), c)
	for i, e := range errs {
		c.Requests += 100
		c.Errors += e
		w.Add(at(10*(i+1)), c)
	}
	return w
}

func TestWindowOver(t *testing.T) {
	errs := []uint64{5, 0, 0, 1, 0, 1} // steps ending at 10..60
	for _, tc := range []struct {
		name string
		w    *Window
		d    time.Duration
		want Delta
		full bool
	}{
		{"last step", fill(time.Minute, errs), 10 * time.Second, Delta{100, 1, 10 * time.Second}, true},
		{"between readings rounds back", fill(time.Minute, errs), 15 * time.Second, Delta{200, 1, 20 * time.Second}, true},
		{"last 30s", fill(time.Minute, errs), 30 * time.Second, Delta{300, 2, 30 * time.Second}, true},
		{"everything", fill(time.Minute, errs), time.Minute, Delta{600, 7, time.Minute}, true},
		{"longer than history", fill(time.Minute, errs), 2 * time.Minute, Delta{600, 7, time.Minute}, false},
		{"short keep prunes", fill(20*time.Second, errs), time.Minute, Delta{200, 1, 20 * time.Second}, false},
		{"one reading", fill(time.Minute, nil), time.Second, Delta{}, false},
		{"empty", NewWindow(time.Minute), time.Second, Delta{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, full := tc.w.Over(tc.d)
			if got != tc.want || full != tc.full {
				t.Errorf("Over(%s) = %+v, %v; want %+v, %v", tc.d, got, full, tc.want, tc.full)
			}
		})
	}
}

func TestWindowAcrossReset(t *testing.T) {
	w := NewWindow(time.Minute)
	w.Add(at(0), Counts{1000, 10})
	w.Add(at(10), Counts{1100, 11})
	w.Add(at(20), Counts{50, 5}) // Traefik restarted
	w.Add(at(30), Counts{150, 5})
	got, full := w.Over(30 * time.Second)
	if want := (Delta{250, 6, 30 * time.Second}); got != want || !full {
		t.Errorf("Over = %+v, %v; want %+v, true", got, full, want)
	}
}

func TestWindowAddIgnoresOldReadings(t *testing.T) {
	w := NewWindow(time.Minute)
	w.Add(at(10), Counts{100, 0})
	w.Add(at(10), Counts{900, 900}) // same time
	w.Add(at(5), Counts{0, 0})      // older
	w.Add(at(20), Counts{200, 1})
	got, full := w.Over(10 * time.Second)
	if want := (Delta{100, 1, 10 * time.Second}); got != want || !full {
		t.Errorf("Over = %+v, %v; want %+v, true", got, full, want)
	}
	if rate, ok := w.ErrorRate(10 * time.Second); rate != 0.01 || !ok {
		t.Errorf("ErrorRate = %v, %v; want 0.01, true", rate, ok)
	}
}

func TestWindowBelow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		errs        []uint64
		d           time.Duration
		maxRate     float64
		minRequests uint64
		ok          bool
		reason      string
	}{
		{"healthy", []uint64{0, 0, 1, 0, 0, 0}, time.Minute, 0.01, 100, true, ""},
		{"exactly the maximum", []uint64{1, 1, 1, 1, 1, 1}, time.Minute, 0.01, 100, true, ""},
		{"above the maximum", []uint64{0, 0, 0, 0, 0, 7}, time.Minute, 0.01, 100, false, "error rate 0.0117 is above 0.0100 (7 of 600 requests)"},
		{"an old burst outside the window", []uint64{50, 0, 0, 0, 0, 0}, 30 * time.Second, 0.01, 100, true, ""},
		{"too few requests", []uint64{0, 0, 0, 0, 0, 0}, time.Minute, 0.01, 1000, false, "600 requests in 1m0s, need at least 1000"},
		{"not long enough yet", []uint64{0, 0}, time.Minute, 0.01, 1, false, "readings cover 20s of 1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := fill(time.Minute, tc.errs).Below(tc.d, tc.maxRate, tc.minRequests)
			if v.OK != tc.ok || v.Reason != tc.reason {
				t.Errorf("Below = %+v; want ok %v reason %q", v, tc.ok, tc.reason)
			}
		})
	}
}
