package accesslog

import (
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Aggregator adds access log entries up per minute, application and
// domain, and keeps the entries themselves as latest requests, until Take.
// Its memory is bounded: Full reports when MaxBuckets minute buckets or
// MaxRecent requests are held, and the caller flushes then. It is not safe
// for concurrent use.
type Aggregator struct {
	// MaxBuckets bounds the open (application, domain, minute) buckets.
	MaxBuckets int
	// MaxRecent bounds the requests held for the latest list.
	MaxRecent int

	buckets map[bucketKey]*store.RequestStat
	recent  []store.RequestRecord
}

type bucketKey struct {
	app    uuid.UUID
	host   string
	minute int64
}

// Default bounds of an Aggregator.
const (
	DefaultMaxBuckets = 2000
	DefaultMaxRecent  = 2000
)

// NewAggregator returns an empty Aggregator with the default bounds.
func NewAggregator() *Aggregator {
	return &Aggregator{MaxBuckets: DefaultMaxBuckets, MaxRecent: DefaultMaxRecent, buckets: map[bucketKey]*store.RequestStat{}}
}

// Add counts e for application app on domain host.
func (a *Aggregator) Add(app uuid.UUID, host string, e Entry) {
	minute := e.StartUTC.Truncate(time.Minute)
	k := bucketKey{app: app, host: host, minute: minute.Unix()}
	b := a.buckets[k]
	if b == nil {
		b = &store.RequestStat{ApplicationID: app, Host: host, Minute: minute, Latency: make([]int64, Buckets)}
		a.buckets[k] = b
	}
	b.Requests++
	if c := e.DownstreamStatus / 100; c >= 1 && c <= 5 {
		b.Status[c-1]++
	}
	ms := float64(e.Duration) / float64(time.Millisecond)
	b.DurationMsSum += ms
	b.Latency[bucketOf(e.Duration)]++
	a.recent = append(a.recent, store.RequestRecord{ApplicationID: app, At: e.StartUTC, Method: e.RequestMethod,
		Host: e.RequestHost, Path: e.RequestPath, Status: e.DownstreamStatus, DurationMs: ms, Client: e.ClientHost})
}

// Full reports whether a bound is reached: flush before adding more.
func (a *Aggregator) Full() bool {
	return len(a.buckets) >= a.MaxBuckets || len(a.recent) >= a.MaxRecent
}

// Len returns the number of requests held for the latest list.
func (a *Aggregator) Len() int { return len(a.recent) }

// Take returns what was added since the last Take and empties a.
func (a *Aggregator) Take() ([]store.RequestStat, []store.RequestRecord) {
	stats := make([]store.RequestStat, 0, len(a.buckets))
	for _, b := range a.buckets {
		stats = append(stats, *b)
	}
	recent := a.recent
	a.buckets = make(map[bucketKey]*store.RequestStat, len(a.buckets))
	a.recent = nil
	return stats, recent
}
