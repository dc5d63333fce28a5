package dashboard

import (
	"math"
	"time"

	"github.com/berth-dev/berth/core/store"
)

// barChart is the geometry of an inline SVG bar chart, computed here so the
// template only places shapes (no charting library, no script).
type barChart struct {
	Width, Height float64
	// Plot area.
	Left, Right, Top, Bottom float64
	Bars                     []bar
	Ticks                    []tick
}

// bar is one deployment's duration.
type bar struct {
	X, Y, W, H float64
	// Class colours the bar by the deployment's status.
	Class string
	Title string
	Href  string
}

// tick is a horizontal grid line with its label.
type tick struct {
	Y     float64
	Label string
}

// maxBars is how many recent deployments the chart shows.
const maxBars = 20

// durationChart charts the durations of finished deployments (deps newest
// first), oldest on the left. It has no bars when none finished.
func durationChart(deps []store.Deployment) barChart {
	c := barChart{Width: 600, Height: 150, Left: 56, Right: 592, Top: 8, Bottom: 128}
	type point struct {
		d   store.Deployment
		dur time.Duration
	}
	var pts []point
	for _, d := range deps {
		if d.StartedAt == nil || d.FinishedAt == nil {
			continue
		}
		pts = append(pts, point{d, d.FinishedAt.Sub(*d.StartedAt)})
		if len(pts) == maxBars {
			break
		}
	}
	if len(pts) == 0 {
		return c
	}
	longest := time.Duration(0)
	for _, p := range pts {
		longest = max(longest, p.dur)
	}
	top := niceCeil(longest)
	plotH := c.Bottom - c.Top
	for i := 0; i <= 2; i++ {
		v := top * time.Duration(i) / 2
		c.Ticks = append(c.Ticks, tick{Y: round1(c.Bottom - plotH*float64(i)/2), Label: formatDuration(v)})
	}
	// Few deployments get wider bars, but never wider than a tenth of the plot.
	slot := (c.Right - c.Left) / float64(max(len(pts), 10))
	w := round1(slot * 0.7)
	for i := range pts {
		p := pts[len(pts)-1-i] // oldest first
		h := plotH * float64(p.dur) / float64(top)
		h = math.Max(h, 1) // a very quick deployment still shows
		c.Bars = append(c.Bars, bar{
			X: round1(c.Left + slot*float64(i) + (slot-w)/2), Y: round1(c.Bottom - h), W: w, H: round1(h),
			Class: "s-" + p.d.Status,
			Title: "Deployment " + shortID(p.d.ID) + ": " + formatDuration(p.dur) + ", " + p.d.Status,
			Href:  deploymentURL(p.d.ID),
		})
	}
	return c
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten seconds (at least
// one second), so axis labels are round numbers.
func niceCeil(d time.Duration) time.Duration {
	s := d.Seconds()
	if s <= 1 {
		return time.Second
	}
	mag := math.Pow(10, math.Floor(math.Log10(s)))
	for _, m := range []float64{1, 2, 5, 10} {
		if s <= m*mag {
			return time.Duration(m * mag * float64(time.Second))
		}
	}
	return time.Duration(10 * mag * float64(time.Second))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
