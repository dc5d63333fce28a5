package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type env struct {
	t     *testing.T
	ctx   context.Context
	store *store.Store
	app   store.Application
	p     *deploy.Pipeline
	enq   *deploy.Enqueuer
	q     *queue.Queue
}

// newEnv gives an enqueuer and a pipeline on a fresh database with one
// application, an insert-only job client and a real (not started) queue; migrateQueue false leaves River's tables out,
// so every job insert fails.
func newEnv(t *testing.T, migrateQueue bool) *env {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.New(bytes.Repeat([]byte{9}, secrets.KeySize))
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
	_, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, environment, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateApplication(ctx, environment.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "nginx",
		Port: 80, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	if migrateQueue {
		if err := queue.Migrate(ctx, st.Pool()); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	jobs, err := queue.NewJobs(st.Pool())
	if err != nil {
		t.Fatal(err)
	}
	p := deploy.New(deploy.Deps{Store: st, Hub: deploylog.NewHub(st, log), Jobs: jobs, Logger: log}, deploy.Config{Instance: "txtest"})
	workers := river.NewWorkers()
	river.AddWorker(workers, &deploy.Worker{Pipeline: p})
	q, err := queue.New(st.Pool(), workers, queue.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, store: st, app: a, p: p, enq: deploy.NewEnqueuer(st, jobs, log), q: q}
}

func (e *env) deployments() []store.Deployment {
	e.t.Helper()
	ds, _, err := e.store.ListDeployments(e.ctx, e.app.ID, store.Page{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

func (e *env) jobs(kind string) int {
	e.t.Helper()
	var n int
	if err := e.store.Pool().QueryRow(e.ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestDeployRecordsAndQueuesTogether: a deployment and its job are created
// in one transaction.
func TestDeployRecordsAndQueuesTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	d, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{Trigger: "manual"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != store.DeploymentQueued || d.JobID == nil {
		t.Fatalf("deployment = %+v", d)
	}
	state, err := e.q.State(e.ctx, *d.JobID)
	if err != nil || !state.Waiting() {
		t.Fatalf("job state = %q, %v", state, err)
	}
	if n := e.jobs("berth.deploy"); n != 1 {
		t.Fatalf("%d deploy jobs, want 1", n)
	}
}

// TestDeployRollsBackWhenTheJobInsertFails: no queue table, so the job
// insert fails, and the deployment record is rolled back with it: nothing
// is left queued to block the application.
func TestDeployRollsBackWhenTheJobInsertFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	if _, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{}); err == nil || !strings.Contains(err.Error(), "river_job") {
		t.Fatalf("Deploy = %v, want the job insert's error", err)
	}
	if ds := e.deployments(); len(ds) != 0 {
		t.Fatalf("deployments left: %+v", ds)
	}
}

// TestDeployTxRollsBackTheJob: when the caller's transaction fails after
// DeployTx (e.g. a preview's domain is taken), the job goes too.
func TestDeployTxRollsBackTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	err := e.store.WithTx(e.ctx, func(tx *store.Tx) error {
		if _, err := e.enq.DeployTx(e.ctx, tx, e.app, store.NewDeployment{}); err != nil {
			return err
		}
		_, err := tx.CreateDomain(e.ctx, uuid.New(), store.DomainSpec{Host: "gone.example.com"}) // no such application
		return err
	})
	if err == nil {
		t.Fatal("the transaction did not fail")
	}
	if ds := e.deployments(); len(ds) != 0 {
		t.Fatalf("deployments left: %+v", ds)
	}
	if n := e.jobs("berth.deploy"); n != 0 {
		t.Fatalf("%d deploy jobs left, want 0", n)
	}
}

// TestRecoverSettlesQueuedDeploymentsWithoutAJob: at start-up a queued
// deployment whose job will never run is failed with the reason; one whose
// job waits is left alone.
func TestRecoverSettlesQueuedDeploymentsWithoutAJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	noJob, err := e.store.CreateDeployment(e.ctx, e.app.ID, store.NewDeployment{}) // as before jobs were transactional
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.q.Cancel(e.ctx, *cancelled.JobID); err != nil {
		t.Fatal(err)
	}
	dead, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{})
	if err != nil {
		t.Fatal(err)
	}
	// The job was being picked up by a process that was killed.
	if _, err := e.store.Pool().Exec(e.ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1`, *dead.JobID); err != nil {
		t.Fatal(err)
	}
	waiting, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.p.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		d      store.Deployment
		status string
		reason string
	}{
		{"no job", noJob, store.DeploymentFailed, "it has no job"},
		{"cancelled job", cancelled, store.DeploymentFailed, "its job ended as cancelled"},
		{"job left running", dead, store.DeploymentFailed, "berth stopped while it was being picked up"},
		{"waiting job", waiting, store.DeploymentQueued, ""},
	} {
		got, err := e.store.GetDeployment(e.ctx, tt.d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tt.status || !strings.Contains(got.Error, tt.reason) {
			t.Errorf("%s: %s %q, want %s %q", tt.name, got.Status, got.Error, tt.status, tt.reason)
		}
	}
}

// TestCancelTx: cancelling a queued deployment cancels its job in the same
// transaction, and a rolled-back transaction leaves both waiting.
func TestCancelTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	tests := []struct {
		name     string
		fail     bool
		status   string
		jobState queue.JobState
	}{
		{"rolled back", true, store.DeploymentQueued, queue.JobState("available")},
		{"committed", false, store.DeploymentCancelled, queue.JobState("cancelled")},
	}
	for _, tt := range tests {
		d, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{})
		if err != nil {
			t.Fatal(err)
		}
		err = e.store.WithTx(e.ctx, func(tx *store.Tx) error {
			if err := e.enq.CancelTx(e.ctx, tx, d); err != nil {
				return err
			}
			if tt.fail {
				return errors.New("the caller's next write failed")
			}
			return nil
		})
		if (err != nil) != tt.fail {
			t.Fatalf("%s: CancelTx = %v", tt.name, err)
		}
		got, err := e.store.GetDeployment(e.ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		state, err := e.q.State(e.ctx, *d.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tt.status || state != tt.jobState {
			t.Errorf("%s: deployment %s, job %q; want %s, %q", tt.name, got.Status, state, tt.status, tt.jobState)
		}
	}
	// A finished deployment cannot be cancelled.
	d, err := e.enq.Deploy(e.ctx, e.app, store.NewDeployment{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.enq.Cancel(e.ctx, d); err != nil {
		t.Fatal(err)
	}
	var conflict *store.ConflictError
	if err := e.enq.Cancel(e.ctx, d); !errors.As(err, &conflict) {
		t.Fatalf("cancelling a finished deployment = %v, want a conflict", err)
	}
}

// txSink records events and whether each came with a transaction.
type txSink struct {
	mu  sync.Mutex
	evs []sdk.Event
	txs []bool
}

func (s *txSink) Emit(_ context.Context, ev sdk.Event) { s.add(ev, false) }

func (s *txSink) EmitTx(_ context.Context, tx pgx.Tx, ev sdk.Event) { s.add(ev, tx != nil) }

func (s *txSink) add(ev sdk.Event, inTx bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs, s.txs = append(s.evs, ev), append(s.txs, inTx)
}

// TestSettledDeploymentEmitsScopedEvent: a deployment Recover fails emits
// deploy.failed in the failing transaction, scoped to its application's
// organization, project and environment, with a link to it.
func TestSettledDeploymentEmitsScopedEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	sink := &txSink{}
	jobs, err := queue.NewJobs(e.store.Pool())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	p := deploy.New(deploy.Deps{Store: e.store, Hub: deploylog.NewHub(e.store, log), Jobs: jobs, Events: sink, Logger: log},
		deploy.Config{Instance: "txtest", PublicURL: "https://berth.example.com"})
	d, err := e.store.CreateDeployment(e.ctx, e.app.ID, store.NewDeployment{Trigger: "manual"}) // no job: settled as failed
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Recover(e.ctx); err != nil {
		t.Fatal(err)
	}
	env, err := e.store.GetEnvironment(e.ctx, e.app.EnvironmentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.evs) != 1 || !sink.txs[0] {
		t.Fatalf("events = %+v (in tx: %v)", sink.evs, sink.txs)
	}
	ev := sink.evs[0]
	if ev.Type != sdk.EventDeployFailed || ev.Deploy.DeploymentID != d.ID.String() || ev.OrganizationID != e.app.OrganizationID.String() ||
		ev.ProjectID != e.app.ProjectID.String() || ev.EnvironmentID != env.ID.String() || ev.Environment != env.Name ||
		ev.Project != "shop" || ev.App != "web" || ev.URL != "https://berth.example.com/deployments/"+d.ID.String() ||
		!strings.HasPrefix(ev.Title, "web: ") {
		t.Errorf("event = %+v", ev)
	}
}
