package accesslog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// DockerAPI is the part of the Docker Engine client a Follower uses;
// *client.Client implements it.
type DockerAPI interface {
	// ContainerLogs streams a container's logs.
	ContainerLogs(ctx context.Context, containerID string, options container.LogsOptions) (io.ReadCloser, error)
}

// Store is where a Follower keeps its figures; *store.Store implements it.
type Store interface {
	// FlushRequests adds figures and moves the log position, atomically.
	FlushRequests(ctx context.Context, f store.RequestFlush) error
	// RequestCursor returns the stored log position of a source.
	RequestCursor(ctx context.Context, source string) (time.Time, error)
	// DomainRoutes returns every domain with its application.
	DomainRoutes(ctx context.Context) ([]store.DomainRoute, error)
	// DeleteRequestStatsBefore applies the retention.
	DeleteRequestStatsBefore(ctx context.Context, before time.Time) (int64, error)
}

// Options configure a Follower.
type Options struct {
	// Container is the Traefik container's name; it is also the source
	// name of the stored log position.
	Container string
	// Docker reads the container's logs.
	Docker DockerAPI
	// Store keeps the figures.
	Store Store
	// FlushEvery is the longest time figures wait before being stored
	// (default 5 s).
	FlushEvery time.Duration
	// KeepPerApp is how many latest requests each application keeps
	// (default 1000).
	KeepPerApp int
	// Retention returns how long per-minute figures are kept (default
	// DefaultRetention).
	Retention func(ctx context.Context) time.Duration
	// Logger receives errors (default: discarded).
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultFlushEvery = 5 * time.Second
	DefaultKeepPerApp = 1000
	DefaultRetention  = 7 * 24 * time.Hour
	// maxLine bounds one log line; longer lines are skipped.
	maxLine = 64 << 10
	// retentionEvery is how often old figures are deleted.
	retentionEvery = time.Hour
)

// Follower reads Traefik's access log and stores its figures.
type Follower struct {
	o        Options
	resolver *Resolver
	stats    counters
}

// counters are a Follower's running totals, for tests and diagnostics.
type counters struct {
	lines, access, counted, flushes atomic.Int64
}

// Counts are a Follower's totals since it was created.
type Counts struct {
	// Lines read from the log, Access lines among them, Counted those
	// attributed to an application, Flushes to the store.
	Lines, Access, Counted, Flushes int64
}

// New returns a Follower; Run starts it.
func New(o Options) *Follower {
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.KeepPerApp <= 0 {
		o.KeepPerApp = DefaultKeepPerApp
	}
	if o.Retention == nil {
		o.Retention = func(context.Context) time.Duration { return DefaultRetention }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Follower{o: o, resolver: NewResolver(o.Store.DomainRoutes)}
}

// Counts returns the Follower's totals.
func (f *Follower) Counts() Counts {
	return Counts{Lines: f.stats.lines.Load(), Access: f.stats.access.Load(), Counted: f.stats.counted.Load(),
		Flushes: f.stats.flushes.Load()}
}

// Run follows the log until ctx ends, reopening it (from the stored
// position) whenever it ends: Traefik restarted or was recreated.
func (f *Follower) Run(ctx context.Context) {
	wait := time.Second
	var nextRetention time.Time
	for ctx.Err() == nil {
		if time.Now().After(nextRetention) {
			f.applyRetention(ctx)
			nextRetention = time.Now().Add(retentionEvery)
		}
		read, err := f.follow(ctx, nextRetention)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			f.o.Logger.Warn("reading the proxy's access log", "container", f.o.Container, "err", err)
		}
		if read > 0 {
			wait = time.Second
		} else {
			wait = min(2*wait, 5*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (f *Follower) applyRetention(ctx context.Context) {
	before := time.Now().Add(-f.o.Retention(ctx))
	if _, err := f.o.Store.DeleteRequestStatsBefore(ctx, before); err != nil && ctx.Err() == nil {
		f.o.Logger.Warn("deleting old request figures", "err", err)
	}
}

// line is one log line with Docker's timestamp.
type line struct {
	at   time.Time
	text []byte
}

// follow reads the log from the stored position until it ends, ctx ends or
// until (then it returns so Run applies the retention); it returns the
// number of lines read.
func (f *Follower) follow(ctx context.Context, until time.Time) (int, error) {
	cursor, err := f.o.Store.RequestCursor(ctx, f.o.Container)
	if err != nil {
		return 0, err
	}
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true, Timestamps: true}
	if !cursor.IsZero() {
		// Docker's since is inclusive: start just after the last line.
		next := cursor.Add(time.Nanosecond)
		opts.Since = fmt.Sprintf("%d.%09d", next.Unix(), next.Nanosecond())
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, err := f.o.Docker.ContainerLogs(rctx, f.o.Container, opts)
	if err != nil {
		return 0, fmt.Errorf("container logs: %w", err)
	}
	defer rc.Close()
	lines := make(chan line, 256)
	readErr := make(chan error, 1)
	go func() { readErr <- readLines(rctx, rc, lines) }()

	agg := NewAggregator()
	through := cursor
	dirty := false
	flush := func() error {
		if !dirty {
			return nil
		}
		if err := f.flush(ctx, agg, through); err != nil {
			return err
		}
		dirty = false
		return nil
	}
	tick := time.NewTicker(f.o.FlushEvery)
	defer tick.Stop()
	read := 0
	for {
		select {
		case <-ctx.Done():
			// Store what was read; the position moves with it.
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer fcancel()
			return read, f.flush(fctx, agg, through)
		case <-tick.C:
			if err := flush(); err != nil {
				return read, err
			}
			if time.Now().After(until) {
				return read, nil
			}
		case l, ok := <-lines:
			if !ok {
				err := <-readErr
				if ferr := flush(); ferr != nil {
					return read, ferr
				}
				return read, err
			}
			read++
			f.stats.lines.Add(1)
			if !l.at.After(through) {
				continue // already counted
			}
			through, dirty = l.at, true
			f.count(ctx, agg, l.text)
			if agg.Full() {
				if err := flush(); err != nil {
					return read, err
				}
			}
		}
	}
}

// count parses one line and adds it to agg when it is an access line of an
// application's domain.
func (f *Follower) count(ctx context.Context, agg *Aggregator, text []byte) {
	e, err := Parse(text)
	if err != nil {
		return // Traefik's own log, or not JSON
	}
	f.stats.access.Add(1)
	d, ok := f.resolver.Resolve(ctx, e)
	if !ok {
		return
	}
	f.stats.counted.Add(1)
	agg.Add(d.ApplicationID, d.Host, e)
}

// flush stores agg's figures and the position through, retrying until it
// succeeds or ctx ends: reading waits meanwhile, so memory stays bounded.
func (f *Follower) flush(ctx context.Context, agg *Aggregator, through time.Time) error {
	stats, recent := agg.Take()
	in := store.RequestFlush{Source: f.o.Container, Through: through, Stats: stats, Requests: recent, KeepPerApp: f.o.KeepPerApp}
	if through.IsZero() {
		return nil
	}
	wait := 500 * time.Millisecond
	for {
		err := f.o.Store.FlushRequests(ctx, in)
		if err == nil {
			f.stats.flushes.Add(1)
			return nil
		}
		f.o.Logger.Warn("storing request figures", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("store request figures: %w", err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// readLines demultiplexes Docker's log stream and sends its lines, with
// their timestamps, to out, which it closes at the end.
func readLines(ctx context.Context, rc io.Reader, out chan<- line) error {
	defer close(out)
	pr, pw := io.Pipe()
	go func() {
		_, err := stdcopy.StdCopy(pw, pw, rc)
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	br := bufio.NewReaderSize(pr, maxLine)
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Too long to be an access line berth reads: skip it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return endErr(err)
			}
			continue
		}
		if len(b) > 0 && (err == nil || errors.Is(err, io.EOF)) {
			if at, text, terr := SplitTimestamp(b); terr == nil {
				select {
				case out <- line{at: at, text: append([]byte(nil), text...)}:
				case <-ctx.Done():
					return nil
				}
			}
		}
		if err != nil {
			return endErr(err)
		}
	}
}

// endErr maps the end of the stream to nil.
func endErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
