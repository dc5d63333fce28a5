package dashboard

import (
	"strings"
	"testing"
	"time"
)

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		unit string
		want string
	}{
		{0, "percent", "0 %"},
		{45.678, "percent", "45.7 %"},
		{1536, "bytes", "1.5 KiB"},
		{3 * 1024 * 1024 * 1024, "bytes", "3.0 GiB"},
		{2.5 * 1024 * 1024, "bytes/s", "2.5 MiB/s"},
		{1250, "ms", "1.25 s"},
		{12.345, "ms", "12.3 ms"},
		{0.5, "req/s", "0.5/s"},
		{1234, "count", "1234"},
	} {
		if got := formatValue(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestNiceTop(t *testing.T) {
	for _, tc := range []struct {
		peak float64
		unit string
		want float64
	}{
		{0, "percent", 1},
		{3.2, "percent", 5},
		{42, "percent", 100},
		{180, "percent", 200}, // two busy cores
		{0, "count", 1},
		{7, "req/s", 10},
		{130, "ms", 200},
		{700 * 1024 * 1024, "bytes", 1024 * 1024 * 1024},
		{300 * 1024, "bytes/s", 500 * 1024},
	} {
		if got := niceTop(tc.peak, tc.unit); got != tc.want {
			t.Errorf("niceTop(%v, %q) = %v, want %v", tc.peak, tc.unit, got, tc.want)
		}
	}
}

func TestLineChart(t *testing.T) {
	from := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	pts := func(minutes ...int) []chartPoint {
		var out []chartPoint
		for _, m := range minutes {
			out = append(out, chartPoint{At: from.Add(time.Duration(m) * time.Minute), Value: float64(m)})
		}
		return out
	}
	tests := []struct {
		name      string
		series    []chartSeries
		empty     bool
		moves     int // "M" commands: 1 + gaps
		last      string
		peakLabel string
	}{
		{name: "no points", series: []chartSeries{{Name: "cpu"}}, empty: true},
		{name: "outside the range", series: []chartSeries{{Name: "cpu", Points: pts(-5, 70)}}, empty: true},
		{name: "continuous", series: []chartSeries{{Name: "cpu", Points: pts(0, 1, 2, 3, 4)}}, moves: 1, last: "4 %", peakLabel: "5 %"},
		{name: "a gap breaks the line", series: []chartSeries{{Name: "cpu", Points: pts(0, 1, 2, 30, 31)}}, moves: 2, last: "31 %", peakLabel: "100 %"},
		{name: "unsorted input", series: []chartSeries{{Name: "cpu", Points: pts(3, 1, 2, 0)}}, moves: 1, last: "3 %", peakLabel: "5 %"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := lineChart("CPU", "percent", from, to, tc.series...)
			if c.Empty != tc.empty {
				t.Fatalf("Empty = %v, want %v", c.Empty, tc.empty)
			}
			if tc.empty {
				return
			}
			l := c.Lines[0]
			if got := strings.Count(l.Path, "M"); got != tc.moves {
				t.Errorf("path %q has %d moves, want %d", l.Path, got, tc.moves)
			}
			if l.Last != tc.last {
				t.Errorf("Last = %q, want %q", l.Last, tc.last)
			}
			if top := c.YTicks[len(c.YTicks)-1].Label; top != tc.peakLabel {
				t.Errorf("top tick = %q, want %q", top, tc.peakLabel)
			}
			if len(c.XTicks) != 4 || c.XTicks[0].Label != "10:00" || c.XTicks[3].Label != "11:00" {
				t.Errorf("x ticks = %+v", c.XTicks)
			}
		})
	}
}

func TestLineChartThinsKeepingPeaks(t *testing.T) {
	from := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	var pts []chartPoint
	for i := 0; i < 5000; i++ {
		v := 1.0
		if i == 2345 {
			v = 99
		}
		pts = append(pts, chartPoint{At: from.Add(time.Duration(i) * time.Second), Value: v})
	}
	c := lineChart("CPU", "percent", from, from.Add(5000*time.Second), chartSeries{Name: "cpu", Points: pts})
	if n := strings.Count(c.Lines[0].Path, "L") + strings.Count(c.Lines[0].Path, "M"); n > maxChartPoints {
		t.Errorf("%d points drawn, want at most %d", n, maxChartPoints)
	}
	if c.Lines[0].Peak != "99 %" {
		t.Errorf("peak = %q, want the spike kept", c.Lines[0].Peak)
	}
}
