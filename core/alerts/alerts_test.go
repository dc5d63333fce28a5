package alerts_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/alerts"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// sent records the deliveries the dispatcher would queue.
type sent struct {
	mu   sync.Mutex
	jobs []notify.Args
}

func (s *sent) Insert(_ context.Context, args river.JobArgs) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = append(s.jobs, args.(notify.Args))
	return int64(len(s.jobs)), nil
}

// take returns and forgets what was sent.
func (s *sent) take() []notify.Args {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.jobs
	s.jobs = nil
	return out
}

// world is a store with an organization, an application, a database and
// two channels subscribed to threshold.crossed: the organization's and an
// instance channel.
type world struct {
	st               *store.Store
	clock            *fakeClock
	sent             *sent
	events           *notify.Dispatcher
	org              uuid.UUID
	app              store.Application
	db               store.Database
	orgChan, instCh  uuid.UUID
	project, environ uuid.UUID
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
	u, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateOrganization(ctx, "globex", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, env, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	app, err := st.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "api", SourceType: "image", Image: "nginx", Port: 80, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := st.CreateDatabase(ctx, env.ID, store.DatabaseSpec{Name: "main", Engine: database.Postgres}, dbCreds())
	if err != nil {
		t.Fatal(err)
	}
	events := []string{string(sdk.EventThresholdCrossed)}
	orgCh, err := st.CreateNotificationChannel(ctx, org.ID, "notifier.hook", store.ChannelChange{Name: "ops", Events: events, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	instCh, err := st.CreateNotificationChannel(ctx, other.ID, "notifier.hook", store.ChannelChange{Name: "infra", Events: events, InstanceEvents: true, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{st: st, clock: &fakeClock{now: time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)}, sent: &sent{}, org: org.ID,
		app: app, db: db, orgChan: orgCh.ID, instCh: instCh.ID, project: p.ID, environ: env.ID}
	w.events = notify.NewDispatcher(st, w.sent, slog.Default())
	return w
}

// evaluator returns a new evaluator on w's store (a restart makes another).
func (w *world) evaluator() *alerts.Evaluator {
	return alerts.New(alerts.Options{Store: w.st, Events: w.events, Clock: w.clock, Interval: 15 * time.Second,
		PublicURL: "https://berth.example.com"})
}

func (w *world) rule(t *testing.T, in store.NewAlertRule) store.AlertRule {
	t.Helper()
	in.Enabled = true
	if in.CooldownSeconds == 0 {
		in.CooldownSeconds = 1800
	}
	if in.Name == "" {
		in.Name = "hot"
	}
	r, err := w.st.CreateAlertRule(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEvaluator feeds rounds of observations 15 s apart through a fake
// clock and counts the events each rule emits.
func TestEvaluator(t *testing.T) {
	type round struct {
		value float64
		// skip leaves the round out (a gap in observations).
		skip bool
	}
	constant := func(v float64, n int) []round {
		out := make([]round, n)
		for i := range out {
			out[i] = round{value: v}
		}
		return out
	}
	seq := func(parts ...[]round) []round {
		var out []round
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name     string
		duration int // seconds
		cooldown int // seconds
		rounds   []round
		// fired and resolved count the events emitted.
		fired, resolved int
		// state is the rule's state after the last round.
		state string
	}{
		{"held for its duration fires once", 300, 1800, constant(96, 30), 1, 0, store.AlertFiring},
		{"not yet for its duration is pending", 300, 1800, constant(96, 20), 0, 0, store.AlertPending},
		{"a short spike does not fire", 300, 1800, seq(constant(50, 5), constant(99, 8), constant(50, 30)), 0, 0, store.AlertOK},
		{"at the threshold is not above it", 0, 1800, constant(90, 10), 0, 0, store.AlertOK},
		{"duration 0 fires at once", 0, 1800, constant(91, 1), 1, 0, store.AlertFiring},
		{"a dip restarts the duration", 300, 1800, seq(constant(96, 15), constant(80, 1), constant(96, 19)), 0, 0, store.AlertPending},
		{"a gap in observations restarts the duration", 300, 1800,
			seq(constant(96, 15), []round{{skip: true}, {skip: true}, {skip: true}, {skip: true}}, constant(96, 19)), 0, 0, store.AlertPending},
		{"a gap of up to 3 intervals does not", 300, 1800,
			seq(constant(96, 15), []round{{skip: true}, {skip: true}}, constant(96, 5)), 1, 0, store.AlertFiring},
		// 21 rounds reach 5 min; the cooldown of 30 min is 120 rounds.
		{"no second event within the cooldown", 300, 1800, constant(96, 21+119), 1, 0, store.AlertFiring},
		{"a second event after the cooldown if still above", 300, 1800, constant(96, 21+120), 2, 0, store.AlertFiring},
		{"drop resets and resolves", 300, 1800, seq(constant(96, 25), constant(40, 2)), 1, 1, store.AlertOK},
		{"again above within the cooldown does not fire again", 0, 1800,
			seq(constant(96, 1), constant(40, 1), constant(96, 5)), 1, 1, store.AlertFiring},
		{"again above after the cooldown fires again", 0, 60,
			seq(constant(96, 1), constant(40, 4), constant(96, 1)), 2, 1, store.AlertFiring},
	}
	w := newWorld(t)
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case watches an application of its own, on the same store.
			app, err := w.st.CreateApplication(ctx, w.environ, store.ApplicationSpec{Name: fmt.Sprintf("app%d", i), SourceType: "image",
				Image: "nginx", Port: 80, Replicas: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := w.rule(t, store.NewAlertRule{Scope: store.AlertScopeApplication, OrganizationID: &w.org, ApplicationID: &app.ID,
				AlertRuleChange: store.AlertRuleChange{Metric: alerts.CPUPercent, Threshold: 90, DurationSeconds: tt.duration, CooldownSeconds: tt.cooldown}})
			defer func() {
				if err := w.st.DeleteAlertRule(ctx, r.ID); err != nil {
					t.Fatal(err)
				}
			}()
			ev := w.evaluator()
			for _, rd := range tt.rounds {
				if !rd.skip {
					ev.Observe(ctx, []alerts.Observation{{Scope: "application", TargetID: app.ID.String(), Metric: alerts.CPUPercent,
						Value: rd.value, At: w.clock.Now()}})
				}
				w.clock.advance(15 * time.Second)
			}
			fired, resolved := 0, 0
			for _, j := range w.sent.take() {
				if j.Channel != w.orgChan {
					t.Errorf("an application's event went to channel %s, not its organization's", j.Channel)
				}
				switch j.Event.Fields["state"] {
				case "firing":
					fired++
				case "resolved":
					resolved++
				}
			}
			if fired != tt.fired || resolved != tt.resolved {
				t.Errorf("fired %d, resolved %d; want %d, %d", fired, resolved, tt.fired, tt.resolved)
			}
			got, err := w.st.GetAlertRule(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status.State != tt.state {
				t.Errorf("state %q, want %q", got.Status.State, tt.state)
			}
		})
	}
}

// TestEvaluatorEvent checks what a fired event says and where it goes.
func TestEvaluatorEvent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.rule(t, store.NewAlertRule{Scope: store.AlertScopeApplication, OrganizationID: &w.org, ApplicationID: &w.app.ID,
		AlertRuleChange: store.AlertRuleChange{Name: "api cpu", Metric: alerts.CPUPercent, Threshold: 90, DurationSeconds: 300}})
	w.rule(t, store.NewAlertRule{Scope: store.AlertScopeDatabase, OrganizationID: &w.org, DatabaseID: &w.db.ID,
		AlertRuleChange: store.AlertRuleChange{Name: "db restarts", Metric: alerts.RestartsPerHour, Threshold: 3}})
	w.rule(t, store.NewAlertRule{Scope: store.AlertScopeServer,
		AlertRuleChange: store.AlertRuleChange{Name: "disk", Metric: alerts.DiskPercent, Threshold: 80, Subject: "/"}})
	ev := w.evaluator()
	for range 21 {
		ev.Observe(ctx, []alerts.Observation{
			{Scope: "application", TargetID: w.app.ID.String(), Metric: alerts.CPUPercent, Value: 96.04, At: w.clock.Now()},
			{Scope: "database", TargetID: w.db.ID.String(), Metric: alerts.RestartsPerHour, Value: 4, At: w.clock.Now()},
			{Scope: "server", TargetID: "node1", Name: "box", Metric: alerts.DiskPercent, Subject: "/", Value: 93, At: w.clock.Now()},
			{Scope: "server", TargetID: "node1", Name: "box", Metric: alerts.DiskPercent, Subject: "/data", Value: 99, At: w.clock.Now()},
			// Another application's figures concern none of the rules.
			{Scope: "application", TargetID: uuid.NewString(), Metric: alerts.CPUPercent, Value: 100, At: w.clock.Now()},
		})
		w.clock.advance(15 * time.Second)
	}
	byTitle := map[string]notify.Args{}
	for _, j := range w.sent.take() {
		byTitle[j.Event.Title] = j
	}
	want := []struct {
		title, message, url, resource string
		channel                       uuid.UUID
		org                           bool
	}{
		{"api: CPU 96 % above 90 % for 5 min", "CPU of app/api is 96 %, above the limit of 90 %", "https://berth.example.com/apps/" + w.app.ID.String() + "/alerts",
			"app/api", w.orgChan, true},
		{"main: restarts 4 per hour above 3 per hour", "Restarts of database/main is 4 per hour", "https://berth.example.com/databases/" + w.db.ID.String() + "/alerts",
			"database/main", w.orgChan, true},
		{"box: disk / 93 % above 80 %", "Disk / of server/box disk:/ is 93 %", "https://berth.example.com/instance/alerts", "server/box disk:/", w.instCh, false},
	}
	if len(byTitle) != len(want) {
		t.Errorf("%d events, want %d: %v", len(byTitle), len(want), byTitle)
	}
	for _, wt := range want {
		j, ok := byTitle[wt.title]
		if !ok {
			t.Errorf("no event titled %q", wt.title)
			continue
		}
		e := j.Event
		if !strings.HasPrefix(e.Message, wt.message) || e.URL != wt.url || e.Severity != sdk.SeverityWarning || e.Type != sdk.EventThresholdCrossed {
			t.Errorf("event %q: message %q url %q severity %q type %q", wt.title, e.Message, e.URL, e.Severity, e.Type)
		}
		if e.Threshold == nil || e.Threshold.Resource != wt.resource {
			t.Errorf("event %q: threshold details %+v", wt.title, e.Threshold)
		}
		if j.Channel != wt.channel {
			t.Errorf("event %q went to channel %s, want %s", wt.title, j.Channel, wt.channel)
		}
		if scoped := e.OrganizationID == w.org.String() && e.ProjectID == w.project.String() && e.EnvironmentID == w.environ.String(); scoped != wt.org {
			t.Errorf("event %q: scope org %q project %q env %q", wt.title, e.OrganizationID, e.ProjectID, e.EnvironmentID)
		}
	}
	if th := byTitle[want[0].title].Event.Threshold; th != nil && (th.Metric != "cpu" || th.Value != 96 || th.Limit != 90 || th.Unit != "percent") {
		t.Errorf("threshold details %+v", th)
	}
}

// TestEvaluatorRestart: an evaluator started again (berth restarted) in
// the middle of a pending duration keeps it, and one started within the
// cooldown does not fire again.
func TestEvaluatorRestart(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.rule(t, store.NewAlertRule{Scope: store.AlertScopeServer,
		AlertRuleChange: store.AlertRuleChange{Metric: alerts.CPUPercent, Threshold: 90, DurationSeconds: 300, CooldownSeconds: 1800}})
	observe := func(ev *alerts.Evaluator, n int) {
		for range n {
			ev.Observe(ctx, []alerts.Observation{{Scope: "server", TargetID: "node1", Metric: alerts.CPUPercent, Value: 95, At: w.clock.Now()}})
			w.clock.advance(15 * time.Second)
		}
	}
	observe(w.evaluator(), 15) // 3.5 min of 5
	// berth restarts within 3 sampling intervals.
	w.clock.advance(20 * time.Second)
	observe(w.evaluator(), 5)
	if got := len(w.sent.take()); got != 1 {
		t.Fatalf("%d events after the pending duration survived a restart, want 1", got)
	}
	w.clock.advance(20 * time.Second)
	observe(w.evaluator(), 20)
	if got := len(w.sent.take()); got != 0 {
		t.Fatalf("%d events after a restart within the cooldown, want 0", got)
	}
}

func dbCreds() database.Credentials {
	return database.Credentials{User: "u", Password: "p", Database: "d"}
}

// TestEvaluatorQueuesDeliveriesWithItsState: with berth's real queue, the
// delivery jobs are inserted in the transaction that saves the round's
// states, one per subscribed channel.
func TestEvaluatorQueuesDeliveriesWithItsState(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := queue.Migrate(ctx, w.st.Pool()); err != nil {
		t.Fatal(err)
	}
	jobs, err := queue.NewJobs(w.st.Pool())
	if err != nil {
		t.Fatal(err)
	}
	w.events = notify.NewDispatcher(w.st, jobs, slog.Default())
	w.rule(t, store.NewAlertRule{Scope: store.AlertScopeApplication, OrganizationID: &w.org, ApplicationID: &w.app.ID,
		AlertRuleChange: store.AlertRuleChange{Metric: alerts.MemoryPercent, Threshold: 80}})
	ev := w.evaluator()
	for range 3 {
		ev.Observe(ctx, []alerts.Observation{{Scope: "application", TargetID: w.app.ID.String(), Metric: alerts.MemoryPercent, Value: 85, At: w.clock.Now()}})
		w.clock.advance(15 * time.Second)
	}
	var n int
	var args []byte
	if err := w.st.Pool().QueryRow(ctx, `SELECT count(*), min(args::text) FROM river_job WHERE kind = 'berth.notify'`).Scan(&n, &args); err != nil {
		t.Fatal(err)
	}
	if n != 1 || !strings.Contains(string(args), w.orgChan.String()) || !strings.Contains(string(args), "api: memory 85 % above 80 %") {
		t.Fatalf("%d delivery jobs queued, want 1 to %s: %s", n, w.orgChan, args)
	}
}
