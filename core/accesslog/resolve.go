package accesslog

import (
	"context"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Resolver attributes access log entries to applications: the router (or
// service) of an entry names a route, whose id is a domain's id, and the
// domain belongs to an application. It caches the domains, reloading them
// every MaxAge and, at most every MissAge, when an entry names a domain it
// does not know (one created since). Safe for concurrent use.
type Resolver struct {
	load    func(ctx context.Context) ([]store.DomainRoute, error)
	maxAge  time.Duration
	missAge time.Duration

	mu       sync.Mutex
	byID     map[uuid.UUID]store.DomainRoute
	loadedAt time.Time
}

// NewResolver returns a Resolver loading domains with load.
func NewResolver(load func(ctx context.Context) ([]store.DomainRoute, error)) *Resolver {
	return &Resolver{load: load, maxAge: time.Minute, missAge: 5 * time.Second}
}

// Resolve returns the domain an entry was routed by; false for entries of
// no domain (no router, Traefik's own routers, deleted domains).
func (r *Resolver) Resolve(ctx context.Context, e Entry) (store.DomainRoute, bool) {
	id, err := uuid.Parse(RouteID(e.RouterName))
	if err != nil {
		if id, err = uuid.Parse(RouteID(e.ServiceName)); err != nil {
			return store.DomainRoute{}, false
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	age := time.Since(r.loadedAt)
	if r.byID == nil || age > r.maxAge {
		r.reload(ctx)
	}
	d, ok := r.byID[id]
	if !ok && time.Since(r.loadedAt) > r.missAge {
		r.reload(ctx)
		d, ok = r.byID[id]
	}
	return d, ok
}

// reload replaces the cache; on error the old one stays (and is retried
// after missAge).
func (r *Resolver) reload(ctx context.Context) {
	ds, err := r.load(ctx)
	r.loadedAt = time.Now()
	if err != nil {
		return
	}
	r.byID = make(map[uuid.UUID]store.DomainRoute, len(ds))
	for _, d := range ds {
		r.byID[d.ID] = d
	}
}
