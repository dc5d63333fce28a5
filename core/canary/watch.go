// Package canary watches canary releases: it reads each canary's requests
// and 5xx answers from Traefik's metrics (core/proxystats), records them
// in the deployment's release report, and promotes a canary whose
// auto-promotion rule held for its window. It scrapes only while a canary
// exists.
package canary

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/proxystats"
	"github.com/berth-dev/berth/core/store"
)

// Store reads canaries and their domains and records their progress.
type Store interface {
	Canaries(ctx context.Context) ([]store.Deployment, error)
	ListDomains(ctx context.Context, app uuid.UUID, p store.Page) ([]store.Domain, bool, error)
	RecordCanary(ctx context.Context, id uuid.UUID, r store.ReleaseReport) error
}

// Scraper reads Traefik's request counters.
type Scraper interface {
	Scrape(ctx context.Context) (proxystats.Scrape, error)
}

// Promoter promotes a canary (the service layer, as berth itself).
type Promoter func(ctx context.Context, d store.Deployment) error

// Watcher follows canaries.
type Watcher struct {
	store   Store
	scraper Scraper
	promote Promoter
	log     *slog.Logger
	// Every is the sampling interval.
	Every time.Duration

	windows map[uuid.UUID]*proxystats.Window
	// last is each canary's latest reading; seen adds up the increases
	// since its first one (a counter lower than before counts as
	// restarted, as in proxystats.Window).
	last map[uuid.UUID]proxystats.Counts
	seen map[uuid.UUID]proxystats.Counts
}

// New returns a Watcher sampling every 5 seconds.
func New(st Store, sc Scraper, promote Promoter, log *slog.Logger) *Watcher {
	if log == nil {
		log = slog.Default()
	}
	return &Watcher{store: st, scraper: sc, promote: promote, log: log, Every: 5 * time.Second,
		windows: map[uuid.UUID]*proxystats.Window{}, last: map[uuid.UUID]proxystats.Counts{}, seen: map[uuid.UUID]proxystats.Counts{}}
}

// Run samples until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	tick := time.NewTicker(w.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.Sample(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("watching canaries failed", "err", err)
		}
	}
}

// Sample reads the counters of every canary once, records them and
// promotes those whose rule held.
func (w *Watcher) Sample(ctx context.Context) error {
	canaries, err := w.store.Canaries(ctx)
	if err != nil {
		return err
	}
	live := map[uuid.UUID]bool{}
	for _, d := range canaries {
		live[d.ID] = true
	}
	for id := range w.windows {
		if !live[id] {
			delete(w.windows, id)
			delete(w.last, id)
			delete(w.seen, id)
		}
	}
	if len(canaries) == 0 {
		return nil
	}
	scrape, err := w.scraper.Scrape(ctx)
	if err != nil {
		return err
	}
	for _, d := range canaries {
		if err := w.sampleOne(ctx, d, scrape); err != nil {
			w.log.Warn("watching a canary failed", "deployment", d.ID, "err", err)
		}
	}
	return nil
}

func (w *Watcher) sampleOne(ctx context.Context, d store.Deployment, scrape proxystats.Scrape) error {
	domains, _, err := w.store.ListDomains(ctx, d.ApplicationID, store.Page{Limit: 1000})
	if err != nil {
		return err
	}
	names := make([]string, 0, len(domains))
	for _, dom := range domains {
		names = append(names, proxy.CanaryMetricsService(dom.ID.String()))
	}
	total := scrape.Sum(names...)
	win, ok := w.windows[d.ID]
	if !ok {
		keep := time.Hour
		if d.Canary != nil && d.Canary.AutoPromote != nil {
			keep = 2 * time.Duration(d.Canary.AutoPromote.WindowSeconds) * time.Second
		}
		win = proxystats.NewWindow(keep)
		w.windows[d.ID] = win
	}
	// The counts are recorded from the canary's first reading, also across
	// a window started anew after a promotion.
	if prev, ok := w.last[d.ID]; ok {
		step := proxystats.Between(prev, total, time.Time{}, time.Time{})
		w.seen[d.ID] = w.seen[d.ID].Add(proxystats.Counts{Requests: step.Requests, Errors: step.Errors})
	}
	w.last[d.ID] = total
	win.Add(scrape.At, total)

	rep := store.ReleaseReport{Strategy: "candidate"}
	if d.Release != nil {
		rep = *d.Release
	}
	if rep.Canary == nil {
		rep.Canary = &store.CanaryReport{}
	}
	if d.Canary != nil {
		rep.Canary.Weight = d.Canary.Weight
	}
	seen := w.seen[d.ID]
	rep.Canary.Requests, rep.Canary.Errors = int64(seen.Requests), int64(seen.Errors)
	if err := w.store.RecordCanary(ctx, d.ID, rep); err != nil {
		return err
	}
	if d.Canary == nil || d.Canary.AutoPromote == nil {
		return nil
	}
	rule := d.Canary.AutoPromote
	minRequests := rule.MinRequests
	if minRequests == 0 {
		minRequests = 20
	}
	v := win.Below(time.Duration(rule.WindowSeconds)*time.Second, rule.MaxErrorRate, uint64(minRequests))
	if !v.OK {
		return nil
	}
	w.log.Info("canary met its promotion rule", "deployment", d.ID, "requests", v.Delta.Requests, "errors", v.Delta.Errors)
	delete(w.windows, d.ID)
	return w.promote(ctx, d)
}
