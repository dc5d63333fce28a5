package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// recorder is a notifier plugin that fails its first failFirst sends with
// fail (a retriable error when nil), or hangs until release is closed.
type recorder struct {
	sdk.UnimplementedNotifier
	mu        sync.Mutex
	failFirst int
	fail      error
	hang      chan struct{}
	calls     int
	got       []sdk.Event
}

func (r *recorder) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.recorder", Version: "0.0.1"}, nil
}

func (r *recorder) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	r.mu.Lock()
	r.calls++
	calls, hang := r.calls, r.hang
	r.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if calls <= r.failFirst {
		if r.fail != nil {
			return nil, r.fail
		}
		return nil, fmt.Errorf("channel down: %w", sdk.ErrUnavailable)
	}
	r.got = append(r.got, req.Event)
	return &sdk.SendResponse{}, nil
}

func (r *recorder) events() (int, []sdk.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls, append([]sdk.Event(nil), r.got...)
}

// plugins gives each channel (by its key) its own recorder.
type plugins struct {
	t  *testing.T
	mu sync.Mutex
	by map[string]*recorder // channel id → recorder
}

func (p *plugins) NotifierInstance(_ context.Context, pluginID, key string, settings json.RawMessage) (sdk.Notifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.by[key]
	if !ok {
		return nil, fmt.Errorf("no plugin process for channel %s (%s): %w", key, pluginID, sdk.ErrUnavailable)
	}
	if !bytes.Contains(settings, []byte(key)) {
		p.t.Errorf("channel %s got settings %s, not its own", key, settings)
	}
	return plugintest.Notifier(p.t, r), nil
}

type world struct {
	st                *store.Store
	jobs              *queue.Jobs
	org, other        uuid.UUID
	project, project2 uuid.UUID
	env               uuid.UUID
	plugins           *plugins
	dispatcher        *notify.Dispatcher
	startQueue        func()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.New(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := queue.Migrate(ctx, st.Pool()); err != nil {
		t.Fatal(err)
	}
	u, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateOrganization(ctx, "globex", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	p1, env, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	p2, _, err := st.CreateProject(ctx, org.ID, "blog", "")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := queue.NewJobs(st.Pool())
	if err != nil {
		t.Fatal(err)
	}
	w := &world{st: st, jobs: jobs, org: org.ID, other: other.ID, project: p1.ID, project2: p2.ID, env: env.ID,
		plugins: &plugins{t: t, by: map[string]*recorder{}}}
	w.dispatcher = notify.NewDispatcher(st, jobs, slog.Default())
	w.startQueue = func() {
		workers := river.NewWorkers()
		river.AddWorker(workers, &notify.Worker{Channels: st, Plugins: w.plugins, Logger: slog.Default()})
		q, err := queue.New(st.Pool(), workers, queue.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = q.Stop(stop)
		})
	}
	return w
}

// channel creates a channel and its recorder.
func (w *world) channel(t *testing.T, org uuid.UUID, name string, r *recorder, c store.ChannelChange) store.NotificationChannel {
	t.Helper()
	c.Name = name
	ch, err := w.st.CreateNotificationChannel(context.Background(), org, "notifier.recorder", c)
	if err != nil {
		t.Fatal(err)
	}
	// Settings naming the channel, to check each process gets its own.
	ch, err = w.st.UpdateNotificationChannel(context.Background(), ch.ID, store.ChannelChange{Name: ch.Name,
		Settings: json.RawMessage(`{"channel":"` + ch.ID.String() + `"}`), Events: ch.Events, ProjectIDs: ch.ProjectIDs,
		EnvironmentIDs: ch.EnvironmentIDs, InstanceEvents: ch.InstanceEvents, Enabled: c.Enabled})
	if err != nil {
		t.Fatal(err)
	}
	w.plugins.mu.Lock()
	w.plugins.by[ch.ID.String()] = r
	w.plugins.mu.Unlock()
	return ch
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEventsGoToTheSubscribedChannels: an event reaches exactly the
// enabled channels of its organization subscribed to its type whose
// project and environment filters match; instance events reach only
// channels that receive them.
func TestEventsGoToTheSubscribedChannels(t *testing.T) {
	w := newWorld(t)
	deploys, backups, shopOnly, blogOnly, envOnly, otherOrg, instance, disabled :=
		&recorder{}, &recorder{}, &recorder{}, &recorder{}, &recorder{}, &recorder{}, &recorder{}, &recorder{}
	all := []string{"deploy.succeeded", "deploy.failed", "backup.succeeded", "berth.restarted"}
	w.channel(t, w.org, "deploys", deploys, store.ChannelChange{Enabled: true, Events: []string{"deploy.succeeded", "deploy.failed"}})
	w.channel(t, w.org, "backups", backups, store.ChannelChange{Enabled: true, Events: []string{"backup.succeeded"}})
	w.channel(t, w.org, "shop", shopOnly, store.ChannelChange{Enabled: true, Events: all, ProjectIDs: []uuid.UUID{w.project}})
	w.channel(t, w.org, "blog", blogOnly, store.ChannelChange{Enabled: true, Events: all, ProjectIDs: []uuid.UUID{w.project2}})
	w.channel(t, w.org, "env", envOnly, store.ChannelChange{Enabled: true, Events: all, EnvironmentIDs: []uuid.UUID{w.env}})
	w.channel(t, w.other, "other", otherOrg, store.ChannelChange{Enabled: true, Events: all, InstanceEvents: true})
	w.channel(t, w.org, "instance", instance, store.ChannelChange{Enabled: true, Events: []string{"berth.restarted"}, InstanceEvents: true})
	w.channel(t, w.org, "off", disabled, store.ChannelChange{Events: all})
	w.startQueue()

	scope := sdk.Event{OrganizationID: w.org.String(), ProjectID: w.project.String(), EnvironmentID: w.env.String()}
	emit := func(ev sdk.Event) {
		ev.OrganizationID, ev.ProjectID, ev.EnvironmentID = scope.OrganizationID, scope.ProjectID, scope.EnvironmentID
		w.dispatcher.Emit(context.Background(), ev)
	}
	emit(sdk.Event{Type: sdk.EventDeploySucceeded, Title: "deployed", Deploy: &sdk.DeployDetails{DeploymentID: "d1"}})
	emit(sdk.Event{Type: sdk.EventBackupSucceeded, Title: "backed up"})
	w.dispatcher.Emit(context.Background(), sdk.Event{Type: sdk.EventBerthRestarted, Title: "restarted"})

	want := []struct {
		name  string
		r     *recorder
		types []sdk.EventType
	}{
		{"deploys", deploys, []sdk.EventType{sdk.EventDeploySucceeded}},
		{"backups", backups, []sdk.EventType{sdk.EventBackupSucceeded}},
		{"shop", shopOnly, []sdk.EventType{sdk.EventDeploySucceeded, sdk.EventBackupSucceeded}},
		{"blog", blogOnly, nil},
		{"env", envOnly, []sdk.EventType{sdk.EventDeploySucceeded, sdk.EventBackupSucceeded}},
		{"other organization", otherOrg, []sdk.EventType{sdk.EventBerthRestarted}},
		{"instance", instance, []sdk.EventType{sdk.EventBerthRestarted}},
		{"disabled", disabled, nil},
	}
	for _, tt := range want {
		waitFor(t, tt.name+"'s deliveries", func() bool { _, got := tt.r.events(); return len(got) >= len(tt.types) })
	}
	time.Sleep(time.Second) // anything unexpected arrives meanwhile
	for _, tt := range want {
		_, got := tt.r.events()
		var types []sdk.EventType
		for _, ev := range got {
			types = append(types, ev.Type)
			if ev.ID == "" || ev.Time.IsZero() || ev.Severity == "" {
				t.Errorf("%s: event without id, time or severity: %+v", tt.name, ev)
			}
		}
		if fmt.Sprint(sortTypes(types)) != fmt.Sprint(sortTypes(tt.types)) {
			t.Errorf("%s received %v, want %v", tt.name, types, tt.types)
		}
	}
}

func sortTypes(ts []sdk.EventType) []sdk.EventType {
	out := append([]sdk.EventType(nil), ts...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestChannelHealth: a retriable failure is retried and marks the channel
// failing until a delivery works; a permanent one (refused credentials)
// is given up at once and marks it unhealthy with the error.
func TestChannelHealth(t *testing.T) {
	w := newWorld(t)
	flaky := &recorder{failFirst: 1}
	refused := &recorder{failFirst: 100, fail: fmt.Errorf("the host answered 401: %w", sdk.ErrUnauthenticated)}
	evs := []string{"deploy.failed"}
	fc := w.channel(t, w.org, "flaky", flaky, store.ChannelChange{Enabled: true, Events: evs})
	rc := w.channel(t, w.org, "refused", refused, store.ChannelChange{Enabled: true, Events: evs})
	w.startQueue()
	w.dispatcher.Emit(context.Background(), sdk.Event{Type: sdk.EventDeployFailed, Title: "t", OrganizationID: w.org.String()})

	health := func(id uuid.UUID) store.ChannelHealth {
		ch, err := w.st.GetNotificationChannel(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return ch.Health
	}
	waitFor(t, "the retried delivery", func() bool { _, got := flaky.events(); return len(got) == 1 })
	if calls, _ := flaky.events(); calls != 2 {
		t.Errorf("flaky channel: %d calls, want 2 (one failure, one retry)", calls)
	}
	if h := health(fc.ID); h.State != store.ChannelHealthy || h.LastDeliveredAt == nil || h.ConsecutiveFailures != 0 {
		t.Errorf("flaky channel health after the retry = %+v, want healthy", h)
	}
	waitFor(t, "the refused channel's health", func() bool { return health(rc.ID).State == store.ChannelUnhealthy })
	time.Sleep(2 * time.Second) // a retry would come meanwhile
	if calls, _ := refused.events(); calls != 1 {
		t.Errorf("refused channel: %d calls, want 1 (refused credentials are not retried)", calls)
	}
	if h := health(rc.ID); h.LastError == "" || h.LastErrorAt == nil {
		t.Errorf("refused channel health = %+v, want its last error", h)
	}
}

// TestSlowChannelDoesNotDelayOthers: while one channel hangs, another
// channel's deliveries (after it in the queue) still arrive.
func TestSlowChannelDoesNotDelayOthers(t *testing.T) {
	w := newWorld(t)
	slow := &recorder{hang: make(chan struct{})}
	fast := &recorder{}
	evs := []string{"deploy.succeeded"}
	w.channel(t, w.org, "slow", slow, store.ChannelChange{Enabled: true, Events: evs})
	w.channel(t, w.org, "fast", fast, store.ChannelChange{Enabled: true, Events: evs})
	w.startQueue()
	for i := range 5 {
		w.dispatcher.Emit(context.Background(), sdk.Event{Type: sdk.EventDeploySucceeded, Title: fmt.Sprint(i), OrganizationID: w.org.String()})
	}
	waitFor(t, "the fast channel's 5 deliveries", func() bool { _, got := fast.events(); return len(got) == 5 })
	if calls, _ := slow.events(); calls != 1 {
		t.Errorf("the slow channel has %d deliveries in flight, want 1", calls)
	}
	close(slow.hang)
	waitFor(t, "the slow channel's 5 deliveries", func() bool { _, got := slow.events(); return len(got) == 5 })
}

// TestEmitTxCommitsWithTheStateChange: deliveries queued with EmitTx exist
// only when the transaction that records the state change commits.
func TestEmitTxCommitsWithTheStateChange(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := &recorder{}
	w.channel(t, w.org, "c", r, store.ChannelChange{Enabled: true, Events: []string{"deploy.succeeded"}})
	rollback := errors.New("the state change failed")
	for _, tt := range []struct {
		name string
		fail error
	}{{"rolled back", rollback}, {"committed", nil}} {
		err := pgx.BeginFunc(ctx, w.st.Pool(), func(tx pgx.Tx) error {
			w.dispatcher.EmitTx(ctx, tx, sdk.Event{Type: sdk.EventDeploySucceeded, Title: tt.name, OrganizationID: w.org.String()})
			return tt.fail
		})
		if !errors.Is(err, tt.fail) {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
	w.startQueue()
	waitFor(t, "the committed delivery", func() bool { _, got := r.events(); return len(got) == 1 })
	time.Sleep(time.Second) // a rolled-back delivery would arrive meanwhile
	var jobs int
	if err := w.st.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'berth.notify'`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if _, got := r.events(); len(got) != 1 || got[0].Title != "committed" || jobs != 1 {
		t.Fatalf("delivered %+v (%d jobs), want only the committed event", got, jobs)
	}
}

// TestInterruptedDeliveryIsSentAgain: a delivery a killed process left
// running is made available at start-up and delivered, with its event id.
func TestInterruptedDeliveryIsSentAgain(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r := &recorder{}
	w.channel(t, w.org, "c", r, store.ChannelChange{Enabled: true, Events: []string{"deploy.succeeded"}})
	w.dispatcher.Emit(ctx, sdk.Event{ID: "ev-1", Type: sdk.EventDeploySucceeded, Title: "x", OrganizationID: w.org.String()})
	// What a process killed mid-delivery leaves: the job running.
	if _, err := w.st.Pool().Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now()
		WHERE kind = 'berth.notify'`); err != nil {
		t.Fatal(err)
	}
	n, err := queue.RequeueRunning(ctx, w.st.Pool(), queue.Notify)
	if err != nil || n != 1 {
		t.Fatalf("RequeueRunning = %d, %v; want 1", n, err)
	}
	w.startQueue()
	waitFor(t, "the interrupted delivery", func() bool { _, got := r.events(); return len(got) == 1 })
	if _, got := r.events(); got[0].ID != "ev-1" {
		t.Errorf("delivered event id %q, want ev-1", got[0].ID)
	}
}

// TestEmitTwiceDeliversOnce: the same event emitted twice is one delivery
// per channel (jobs are unique per channel and event id).
func TestEmitTwiceDeliversOnce(t *testing.T) {
	w := newWorld(t)
	r := &recorder{}
	w.channel(t, w.org, "c", r, store.ChannelChange{Enabled: true, Events: []string{"deploy.succeeded"}})
	ev := sdk.Event{ID: "same", Type: sdk.EventDeploySucceeded, Title: "x", OrganizationID: w.org.String()}
	w.dispatcher.Emit(context.Background(), ev)
	w.dispatcher.Emit(context.Background(), ev)
	w.startQueue()
	waitFor(t, "the delivery", func() bool { _, got := r.events(); return len(got) == 1 })
	time.Sleep(time.Second)
	if calls, _ := r.events(); calls != 1 {
		t.Errorf("%d deliveries, want 1", calls)
	}
}

func TestEmitWithoutQueueIsHarmless(t *testing.T) {
	var nilDispatcher *notify.Dispatcher
	nilDispatcher.Emit(context.Background(), sdk.Event{Type: sdk.EventTest})
	notify.NewDispatcher(nil, nil, nil).Emit(context.Background(), sdk.Event{Type: sdk.EventTest})
}
