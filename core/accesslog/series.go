package accesslog

import (
	"time"

	"github.com/berth-dev/berth/core/store"
)

// Point is the traffic of one step of a Series.
type Point struct {
	// At is the start of the step.
	At time.Time `json:"at"`
	// Requests counts the requests of the step.
	Requests int64 `json:"requests"`
	// RPS is Requests per second of the step.
	RPS float64 `json:"rps"`
	// Status1xx..Status5xx count the requests by status class.
	Status1xx int64 `json:"status_1xx"`
	Status2xx int64 `json:"status_2xx"`
	Status3xx int64 `json:"status_3xx"`
	Status4xx int64 `json:"status_4xx"`
	Status5xx int64 `json:"status_5xx"`
	// P50Ms and P95Ms are latency percentiles estimated from the
	// histogram, in milliseconds (0 without requests).
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	// MeanMs is the mean latency in milliseconds (0 without requests).
	MeanMs float64 `json:"mean_ms"`
}

// Series is an application's traffic over [From, To) in steps.
type Series struct {
	// From and To bound the range; Step is each point's width.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Step Duration  `json:"step"`
	// Points has one point per step, empty steps included.
	Points []Point `json:"points"`
	// Total is the whole range as one point (At = From).
	Total Point `json:"total"`
}

// Duration is a time.Duration that encodes as its string ("1m0s").
type Duration time.Duration

// MarshalText encodes d as time.Duration's String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// acc accumulates the rows of one point.
type acc struct {
	p    Point
	sum  float64
	hist []int64
}

func (a *acc) add(r store.RequestStat) {
	if a.hist == nil {
		a.hist = make([]int64, Buckets)
	}
	a.p.Requests += r.Requests
	a.p.Status1xx += r.Status[0]
	a.p.Status2xx += r.Status[1]
	a.p.Status3xx += r.Status[2]
	a.p.Status4xx += r.Status[3]
	a.p.Status5xx += r.Status[4]
	a.sum += r.DurationMsSum
	Merge(a.hist, r.Latency)
}

func (a *acc) point(width time.Duration) Point {
	p := a.p
	if secs := width.Seconds(); secs > 0 {
		p.RPS = float64(p.Requests) / secs
	}
	if p.Requests > 0 {
		p.P50Ms, p.P95Ms = Quantile(a.hist, 0.5), Quantile(a.hist, 0.95)
		p.MeanMs = a.sum / float64(p.Requests)
	}
	return p
}

// BuildSeries adds the per-minute rows (any order, any domains) into
// points of step over [from, to): counts add up, percentiles come from
// the added histograms. step must be positive.
func BuildSeries(rows []store.RequestStat, from, to time.Time, step time.Duration) Series {
	n := int((to.Sub(from) + step - 1) / step)
	accs := make([]acc, max(n, 0))
	var total acc
	for _, r := range rows {
		if r.Minute.Before(from) || !r.Minute.Before(to) {
			continue
		}
		i := int(r.Minute.Sub(from) / step)
		accs[i].add(r)
		total.add(r)
	}
	s := Series{From: from, To: to, Step: Duration(step), Points: make([]Point, len(accs))}
	for i := range accs {
		at := from.Add(time.Duration(i) * step)
		width := min(step, to.Sub(at))
		s.Points[i] = accs[i].point(width)
		s.Points[i].At = at
	}
	s.Total = total.point(to.Sub(from))
	s.Total.At = from
	return s
}

// UnmarshalText decodes what MarshalText encodes.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
