// Package runtimelog reads what applications and databases print: the
// logs of their Swarm services through the Docker Engine's service logs
// API, which reaches every task on every node. Each line carries its
// stream (stdout or stderr), time and task (id, replica slot, node).
//
// A read returns the latest lines matching a Query, oldest first, and with
// Follow keeps delivering new ones until its context ends. Memory stays
// bounded: lines are streamed from Docker and at most the answer's lines
// are held, never a whole log.
package runtimelog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
)

// Line is one line a task printed.
type Line struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"` // stdout or stderr
	TaskID string    `json:"task_id"`
	// Slot is the task's replica slot (0 when unknown).
	Slot   int    `json:"slot"`
	NodeID string `json:"node_id"`
	Text   string `json:"text"`
}

// Docker is the part of the Docker Engine API a Reader uses;
// *client.Client implements it.
type Docker interface {
	ServiceInspectWithRaw(ctx context.Context, serviceID string, options swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
	ServiceLogs(ctx context.Context, serviceID string, options container.LogsOptions) (io.ReadCloser, error)
	TaskList(ctx context.Context, options swarm.TaskListOptions) ([]swarm.Task, error)
}

// Limits of what a read holds in memory.
const (
	// maxLineBytes is the longest line kept; longer ones are cut (Docker
	// itself splits lines at 16 KiB, so this only guards the parser).
	maxLineBytes = 16 << 10
	// maxAnswerBytes bounds the text of the lines a read holds before
	// returning them; the oldest are dropped beyond it.
	maxAnswerBytes = 16 << 20
	// scanWindow is how many of each task's latest lines Docker is asked
	// for when a filter it does not apply before its tail (text, task,
	// until, stream) may reject many, and no since bounds them.
	scanWindow = 10000
	// pollEvery is how often a follow looks for services that appeared
	// (a release's candidate) or were replaced.
	pollEvery = 2 * time.Second
)

// Reader reads service logs.
type Reader struct {
	docker Docker
}

// New returns a Reader on docker.
func New(docker Docker) *Reader { return &Reader{docker: docker} }

// ApplicationServices are the services an application's logs come from:
// its own and, while a release runs, its candidate.
func ApplicationServices(a store.Application) []string {
	return []string{a.ServiceName, store.CandidateServiceName(a.ServiceName)}
}

// DatabaseServices are the services a database's logs come from.
func DatabaseServices(db store.Database) []string { return []string{db.ServiceName} }

// Read calls emit with the latest lines of the named services that match
// q, oldest first; with q.Follow it then calls emit with each new line
// until ctx ends. Services that do not exist have no lines (a follow picks
// them up when they appear). emit is called from one goroutine; an error
// from it ends the read and is returned.
func (r *Reader) Read(ctx context.Context, services []string, q Query, emit func(Line) error) error {
	started := time.Now()
	var tail []Line
	if q.Tail > 0 {
		h := newNewest(q.Tail)
		for _, name := range services {
			id, err := r.serviceID(ctx, name)
			if err != nil {
				return err
			}
			if id == "" {
				continue
			}
			if err := r.scan(ctx, id, q, false, time.Time{}, h.add); err != nil {
				return err
			}
		}
		tail = h.sorted()
	}
	sent := newRecentLines()
	for _, l := range tail {
		sent.seen(l)
		if err := emit(l); err != nil {
			return err
		}
	}
	if !q.Follow {
		return nil
	}
	// Live lines are those after the last line returned (or after the read
	// began), and those of the overlap before it that were not returned
	// yet; when the tail is full, never one older than its first line, and
	// without a tail none from before the read.
	after, floor := started, started.Add(-overlap)
	if q.Tail == 0 {
		floor = started
	}
	if n := len(tail); n > 0 {
		after, floor = tail[n-1].Time, tail[n-1].Time.Add(-overlap)
		if n == q.Tail && tail[0].Time.After(floor) {
			floor = tail[0].Time
		}
	}
	return r.follow(ctx, services, q, after, floor, sent, emit)
}

// overlap is how far before its starting point a following stream begins.
// Docker stamps a line when it reads it from the container, and one task's
// line may reach the log a little after another task's later one; lines
// of the overlap already sent are recognised and dropped.
const overlap = 3 * time.Second

// follow delivers the services' lines after `after` as they come (and the
// overlap's not yet sent, down to floor), starting a stream for each
// service that exists, for one that appears (a release's candidate) and
// again for one whose stream ended (from its last line) or that was
// replaced.
func (r *Reader) follow(ctx context.Context, services []string, q Query, after, floor time.Time, sent *recentLines, emit func(Line) error) error {
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, deferred below, ends every stream
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// followed is what is known of one service's stream.
	type followed struct {
		id      string
		running bool
		// since is where its next stream starts (less the overlap), floor
		// the oldest line it may send.
		since, floor time.Time
	}
	type serviceLine struct {
		name, id string
		Line
	}
	lines := make(chan serviceLine, 64)
	type ended struct{ name, id string }
	done := make(chan ended, len(services))
	state := map[string]*followed{}
	start := func() error {
		for _, name := range services {
			id, err := r.serviceID(ctx, name)
			if err != nil {
				return err
			}
			st := state[name]
			if id == "" || st != nil && st.id == id && st.running {
				continue
			}
			if st == nil || st.id != id {
				st = &followed{id: id, since: after, floor: floor}
				state[name] = st
			}
			st.running = true
			since, floor := st.since.Add(-overlap), st.floor
			if since.After(floor) {
				floor = since
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = r.scan(ctx, id, q, true, since, func(l Line) {
					if l.Time.Before(floor) {
						return
					}
					select {
					case lines <- serviceLine{name, id, l}:
					case <-ctx.Done():
					}
				})
				select {
				case done <- ended{name, id}:
				case <-ctx.Done():
				}
			}()
		}
		return nil
	}
	if err := start(); err != nil {
		return err
	}
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case l := <-lines:
			if sent.seen(l.Line) {
				continue
			}
			if st := state[l.name]; st != nil && st.id == l.id && l.Time.After(st.since) {
				st.since = l.Time
			}
			if err := emit(l.Line); err != nil {
				return err
			}
		case e := <-done:
			if st := state[e.name]; st != nil && st.id == e.id {
				st.running = false
			}
		case <-poll.C:
			if err := start(); err != nil {
				return err
			}
		}
	}
}

// lineKey tells lines apart without keeping their text: one task does not
// print two lines of one stream at the same nanosecond.
type lineKey struct {
	task, stream string
	at           int64
}

// recentLines remembers the lines sent within the overlap of the newest.
type recentLines struct {
	keys   map[lineKey]time.Time
	newest time.Time
	limit  int
}

func newRecentLines() *recentLines {
	return &recentLines{keys: map[lineKey]time.Time{}, limit: 1024}
}

// seen reports whether l was sent already, and remembers it if not.
func (r *recentLines) seen(l Line) bool {
	k := lineKey{l.TaskID, l.Stream, l.Time.UnixNano()}
	if _, ok := r.keys[k]; ok {
		return true
	}
	r.keys[k] = l.Time
	if l.Time.After(r.newest) {
		r.newest = l.Time
	}
	if len(r.keys) >= r.limit {
		old := r.newest.Add(-overlap)
		for k, t := range r.keys {
			if t.Before(old) {
				delete(r.keys, k)
			}
		}
		r.limit = max(1024, 2*len(r.keys))
	}
	return false
}

// serviceID returns the id of the service named name, or "" when there is
// none.
func (r *Reader) serviceID(ctx context.Context, name string) (string, error) {
	svc, _, err := r.docker.ServiceInspectWithRaw(ctx, name, swarm.ServiceInspectOptions{})
	if errdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspect service %s: %w", name, err)
	}
	return svc.ID, nil
}

// scan reads the logs of service id and calls add with each line matching
// q. With follow it reads on until the stream ends (the service was
// removed) or ctx ends, starting at since.
func (r *Reader) scan(ctx context.Context, id string, q Query, follow bool, since time.Time, add func(Line)) error {
	tasks := newTaskMap(r.docker, id)
	opts := container.LogsOptions{
		ShowStdout: q.Stream != Stderr, ShowStderr: q.Stream != Stdout,
		Timestamps: true, Details: true, Follow: follow,
	}
	if !follow {
		since = q.Since
		switch {
		// Docker counts its tail before it drops the other stream.
		case q.Text == "" && q.Task == "" && q.Until.IsZero() && q.Stream == "":
			opts.Tail = strconv.Itoa(q.Tail)
		case since.IsZero():
			opts.Tail = strconv.Itoa(scanWindow)
		}
	} else if since.Before(q.Since) {
		since = q.Since
	}
	if !since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond())
	}
	rc, err := r.docker.ServiceLogs(ctx, id, opts)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logs of service %s: %w", id, err)
	}
	defer rc.Close()
	if follow {
		// Closing the stream is what ends a read blocked on it.
		stop := context.AfterFunc(ctx, func() { rc.Close() })
		defer stop()
	}
	match := q.filter()
	out := &demux{stream: Stdout, emit: func(l Line) {
		tasks.fill(ctx, &l)
		if match(&l) {
			add(l)
		}
	}}
	errw := &demux{stream: Stderr, emit: out.emit}
	if _, err := stdcopy.StdCopy(out, errw, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("logs of service %s: %w", id, err)
	}
	return nil
}

// demux turns one stream's frames into lines. stdcopy writes each frame,
// one log message, in one Write: a line, or a piece of a line longer than
// Docker's 16 KiB, which stays a line of its own.
type demux struct {
	stream string
	emit   func(Line)
}

// Write emits the message p holds.
func (d *demux) Write(p []byte) (int, error) {
	d.emit(parseLine(d.stream, bytes.TrimSuffix(p, []byte("\n"))))
	return len(p), nil
}

// parseLine reads "<time> <details> <text>", details being the Swarm
// attributes Docker adds with Details ("com.docker.swarm.node.id=…,…").
func parseLine(stream string, b []byte) Line {
	l := Line{Stream: stream}
	s := string(b)
	if ts, rest, ok := strings.Cut(s, " "); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			l.Time, s = t, rest
		}
	}
	if attrs, rest, ok := strings.Cut(s, " "); ok && strings.Contains(attrs, "com.docker.swarm.") {
		for _, kv := range strings.Split(attrs, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "com.docker.swarm.task.id":
				l.TaskID = v
			case "com.docker.swarm.node.id":
				l.NodeID = v
			}
		}
		s = rest
	}
	s = strings.TrimSuffix(s, "\r")
	if len(s) > maxLineBytes {
		s = s[:maxLineBytes] + "…"
	}
	l.Text = strings.ToValidUTF8(s, "\uFFFD")
	return l
}

// taskMap knows the replica slot (and node) of a service's tasks, listing
// them again, at most once a second, when a line names a task it does not
// know.
type taskMap struct {
	docker  Docker
	service string
	slots   map[string]int
	nodes   map[string]string
	listed  time.Time
}

func newTaskMap(docker Docker, service string) *taskMap {
	return &taskMap{docker: docker, service: service}
}

func (m *taskMap) fill(ctx context.Context, l *Line) {
	if l.TaskID == "" {
		return
	}
	if _, ok := m.slots[l.TaskID]; !ok && time.Since(m.listed) > time.Second {
		m.list(ctx)
	}
	l.Slot = m.slots[l.TaskID]
	if l.NodeID == "" {
		l.NodeID = m.nodes[l.TaskID]
	}
}

func (m *taskMap) list(ctx context.Context) {
	m.listed = time.Now()
	tasks, err := m.docker.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", m.service))})
	if err != nil {
		return // slots stay unknown (0); the lines still come
	}
	if m.slots == nil {
		m.slots, m.nodes = map[string]int{}, map[string]string{}
	}
	for _, t := range tasks {
		m.slots[t.ID] = t.Slot
		m.nodes[t.ID] = t.NodeID
	}
}
