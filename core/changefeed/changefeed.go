// Package changefeed tells subscribers about committed changes of berth's
// routed and listed objects (projects, environments, applications,
// domains, databases), whoever wrote them: the API, the dashboard, a
// webhook, the scheduler, a job or a cascaded delete.
//
// The announcement is made by PostgreSQL itself: triggers (migration
// 0010_changefeed) notify the channel berth_changes, and PostgreSQL
// delivers a notification only once its transaction commits. A change can
// therefore not be forgotten by a front door, and a rolled-back change is
// never announced. A Feed holds one connection listening on the channel;
// after it reconnects it announces a Resync, since notifications sent
// while it was away are lost.
package changefeed

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is the PostgreSQL notification channel the triggers notify.
const Channel = "berth_changes"

// Table names a table whose changes are announced.
type Table string

// The announced tables.
const (
	Projects     Table = "projects"
	Environments Table = "environments"
	Applications Table = "applications"
	Domains      Table = "domains"
	Databases    Table = "databases"
	// Deployments are announced only when one enters or leaves the canary
	// state (or its canary share changes), which moves traffic.
	Deployments Table = "deployments"
	// Resync is announced after the feed (re)connects: any change may
	// have been missed, so subscribers refresh everything.
	Resync Table = "*"
)

// Change is one committed change of one row.
type Change struct {
	Table Table
	// Op is insert, update or delete (empty for Resync).
	Op string
	ID uuid.UUID
}

// Parse reads a notification payload "<table> <op> <id>".
func Parse(payload string) (Change, error) {
	f := strings.Fields(payload)
	if len(f) != 3 {
		return Change{}, fmt.Errorf("changefeed: malformed payload %q", payload)
	}
	id, err := uuid.Parse(f[2])
	if err != nil {
		return Change{}, fmt.Errorf("changefeed: malformed id in %q: %w", payload, err)
	}
	return Change{Table: Table(f[0]), Op: f[1], ID: id}, nil
}

// Feed listens on Channel and calls its subscribers.
type Feed struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu   sync.Mutex
	subs []subscription
}

type subscription struct {
	tables map[Table]bool // nil: every table
	fn     func(Change)
}

// New returns a feed on pool; call Run to start listening.
func New(pool *pgxpool.Pool, log *slog.Logger) *Feed {
	if log == nil {
		log = slog.Default()
	}
	return &Feed{pool: pool, log: log}
}

// Subscribe calls fn for every change of the given tables (every table
// when none is given) and for every Resync. fn runs on the feed's
// goroutine: it must return quickly (hand work to a goroutine or a
// coalescing channel).
func (f *Feed) Subscribe(fn func(Change), tables ...Table) {
	s := subscription{fn: fn}
	if len(tables) > 0 {
		s.tables = map[Table]bool{}
		for _, t := range tables {
			s.tables[t] = true
		}
	}
	f.mu.Lock()
	f.subs = append(f.subs, s)
	f.mu.Unlock()
}

func (f *Feed) announce(c Change) {
	f.mu.Lock()
	subs := f.subs
	f.mu.Unlock()
	for _, s := range subs {
		if s.tables == nil || c.Table == Resync || s.tables[c.Table] {
			s.fn(c)
		}
	}
}

// Run listens until ctx ends, reconnecting with backoff after a lost
// connection; ready (if not nil) is closed once the first LISTEN is in
// place, so a caller can make sure no later commit goes unheard.
func (f *Feed) Run(ctx context.Context, ready chan<- struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := f.listen(ctx, &ready)
		if ctx.Err() != nil {
			return
		}
		f.log.Warn("change feed lost its connection; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listen holds one connection on Channel until it fails or ctx ends.
func (f *Feed) listen(ctx context.Context, ready *chan<- struct{}) error {
	pooled, err := f.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("changefeed: acquire: %w", err)
	}
	// The connection leaves the pool at once: a listening connection is
	// never handed to anyone else, and closing the pool does not wait for
	// it. It is closed when listening ends.
	conn := pooled.Hijack()
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return fmt.Errorf("changefeed: listen: %w", err)
	}
	if *ready != nil {
		close(*ready)
		*ready = nil
	}
	f.announce(Change{Table: Resync})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("changefeed: wait: %w", err)
		}
		c, err := Parse(n.Payload)
		if err != nil {
			f.log.Error("ignoring a change notification", "err", err)
			continue
		}
		f.announce(c)
	}
}
