package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// chartSeries is one line of a line chart.
type chartSeries struct {
	// Name labels the line in the legend.
	Name string
	// Class colours the line (c1…c4 in app.css).
	Class string
	// Points are the values, in any order; missing intervals leave a gap.
	Points []chartPoint
}

// chartPoint is one value at one time.
type chartPoint struct {
	At    time.Time
	Value float64
}

// lineChartView is the geometry of an inline SVG line chart, computed here
// so the template only places shapes (no charting library, no script).
// templates/_linechart.html renders it with {{template "linechart" .}}.
type lineChartView struct {
	Title string
	// Unit is how values are formatted: percent, bytes, bytes/s, ms, req/s
	// or count.
	Unit          string
	Width, Height float64
	// Plot area.
	Left, Right, Top, Bottom float64
	YTicks                   []tick
	XTicks                   []xTick
	Lines                    []chartLine
	// Empty is true when no series has a point in the range.
	Empty bool
}

// xTick is a time label under the plot.
type xTick struct {
	X      float64
	Label  string
	Anchor string
}

// chartLine is a drawn series.
type chartLine struct {
	Name  string
	Class string
	// Path is the SVG path data, broken where points are missing.
	Path string
	// Last is the newest value, formatted, for the legend.
	Last string
	// Peak is the highest value, formatted.
	Peak string
}

// maxChartPoints bounds the points drawn per line: more than about one per
// pixel adds bytes and nothing visible.
const maxChartPoints = 600

// lineChart lays out series over [from, to]. unit formats the axis and the
// legend (see lineChartView.Unit).
func lineChart(title, unit string, from, to time.Time, series ...chartSeries) lineChartView {
	c := lineChartView{Title: title, Unit: unit, Width: 600, Height: 170, Left: 64, Right: 592, Top: 8, Bottom: 146, Empty: true}
	if !to.After(from) {
		to = from.Add(time.Minute)
	}
	peak := 0.0
	for _, s := range series {
		for _, p := range s.Points {
			if inRange(p.At, from, to) && !math.IsNaN(p.Value) {
				c.Empty = false
				peak = math.Max(peak, p.Value)
			}
		}
	}
	top := niceTop(peak, unit)
	plotH, plotW := c.Bottom-c.Top, c.Right-c.Left
	for i := 0; i <= 2; i++ {
		v := top * float64(i) / 2
		c.YTicks = append(c.YTicks, tick{Y: round1(c.Bottom - plotH*float64(i)/2), Label: formatValue(v, unit)})
	}
	span := to.Sub(from)
	for i := 0; i <= 3; i++ {
		at := from.Add(span * time.Duration(i) / 3)
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 3:
			anchor = "end"
		}
		c.XTicks = append(c.XTicks, xTick{X: round1(c.Left + plotW*float64(i)/3), Label: timeLabel(at, span), Anchor: anchor})
	}
	x := func(t time.Time) float64 { return c.Left + plotW*float64(t.Sub(from))/float64(span) }
	y := func(v float64) float64 { return c.Bottom - plotH*math.Max(v, 0)/top }
	for _, s := range series {
		pts := thin(sortedInRange(s.Points, from, to), maxChartPoints)
		line := chartLine{Name: s.Name, Class: s.Class}
		if len(pts) > 0 {
			line.Last = formatValue(pts[len(pts)-1].Value, unit)
			hi := pts[0].Value
			for _, p := range pts {
				hi = math.Max(hi, p.Value)
			}
			line.Peak = formatValue(hi, unit)
		}
		gap := gapLimit(pts)
		var b strings.Builder
		for i, p := range pts {
			cmd := "L"
			if i == 0 || p.At.Sub(pts[i-1].At) > gap {
				cmd = "M"
			}
			fmt.Fprintf(&b, "%s%s %s ", cmd, coord(x(p.At)), coord(y(p.Value)))
		}
		// A lone point after a gap still shows as a short tick.
		line.Path = strings.TrimSpace(b.String())
		c.Lines = append(c.Lines, line)
	}
	return c
}

func inRange(t, from, to time.Time) bool { return !t.Before(from) && !t.After(to) }

// sortedInRange returns the points within [from, to], oldest first.
func sortedInRange(points []chartPoint, from, to time.Time) []chartPoint {
	out := make([]chartPoint, 0, len(points))
	for _, p := range points {
		if inRange(p.At, from, to) && !math.IsNaN(p.Value) {
			out = append(out, p)
		}
	}
	sortPoints(out)
	return out
}

func sortPoints(p []chartPoint) {
	for i := 1; i < len(p); i++ { // nearly always sorted already
		for j := i; j > 0 && p[j].At.Before(p[j-1].At); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// thin keeps at most n points, the highest of each group, so peaks stay
// visible.
func thin(p []chartPoint, n int) []chartPoint {
	if len(p) <= n {
		return p
	}
	group := (len(p) + n - 1) / n
	out := make([]chartPoint, 0, n)
	for i := 0; i < len(p); i += group {
		best := p[i]
		for _, q := range p[i:min(i+group, len(p))] {
			if q.Value > best.Value {
				best = q
			}
		}
		out = append(out, best)
	}
	return out
}

// gapLimit is the spacing beyond which two neighbouring points are drawn
// unconnected: three times the most common (smallest) spacing.
func gapLimit(p []chartPoint) time.Duration {
	step := time.Duration(0)
	for i := 1; i < len(p); i++ {
		if d := p[i].At.Sub(p[i-1].At); d > 0 && (step == 0 || d < step) {
			step = d
		}
	}
	if step == 0 {
		return time.Duration(math.MaxInt64)
	}
	return 3 * step
}

func coord(f float64) string { return strconv.FormatFloat(round1(f), 'f', -1, 64) }

// niceTop is the top of the value axis: at least the peak, a round number
// in the unit (1, 2 or 5 times a power of ten, of 1024 for bytes).
func niceTop(peak float64, unit string) float64 {
	if unit == "percent" && peak <= 100 {
		if peak <= 10 {
			return niceCeilFloat(math.Max(peak, 1))
		}
		return 100
	}
	if peak <= 0 {
		return 1
	}
	if unit == "bytes" || unit == "bytes/s" {
		scale := 1.0
		for peak/scale >= 1024 {
			scale *= 1024
		}
		n := niceCeilFloat(peak / scale)
		if n >= 1000 { // 1000 MiB reads better as 1 GiB
			n = 1024
		}
		return n * scale
	}
	return niceCeilFloat(peak)
}

// niceCeilFloat rounds v > 0 up to 1, 2 or 5 times a power of ten.
func niceCeilFloat(v float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*mag*(1+1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// formatValue formats v in unit for axis labels and legends.
func formatValue(v float64, unit string) string {
	switch unit {
	case "percent":
		return trimFloat(v) + " %"
	case "bytes":
		return formatBytes(int64(v))
	case "bytes/s":
		return formatBytes(int64(v)) + "/s"
	case "ms":
		if v >= 1000 {
			return trimFloat(v/1000) + " s"
		}
		return trimFloat(v) + " ms"
	case "req/s":
		return trimFloat(v) + "/s"
	default:
		return trimFloat(v)
	}
}

// trimFloat shows three significant digits at most, without trailing zeros.
func trimFloat(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case a >= 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
	default:
		return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
	}
}

// timeLabel formats an axis time: clock time for spans within a day,
// weekday and clock time beyond.
func timeLabel(t time.Time, span time.Duration) string {
	t = t.UTC()
	if span > 36*time.Hour {
		return t.Format("Mon 15:04")
	}
	return t.Format("15:04")
}
