package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newStore opens a migrated store on a fresh database with one
// application.
func newStore(t testing.TB) (*store.Store, store.Application) {
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
	_, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, env, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "nginx",
		Port: 80, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	return st, a
}

// TestWithTx: what a transaction writes exists after it commits, and
// nothing of it after an error, including writes made by methods that open
// their own transaction (savepoints) and by a nested WithTx.
func TestWithTx(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func(ctx context.Context, tx *store.Tx, app store.Application) error
		wantErr error
		want    int // deployments left
	}{
		{"commit", func(ctx context.Context, tx *store.Tx, app store.Application) error {
			_, err := tx.CreateDeployment(ctx, app.ID, store.NewDeployment{})
			return err
		}, nil, 1},
		{"error rolls back", func(ctx context.Context, tx *store.Tx, app store.Application) error {
			if _, err := tx.CreateDeployment(ctx, app.ID, store.NewDeployment{}); err != nil {
				return err
			}
			return boom
		}, boom, 0},
		{"own transactions become savepoints", func(ctx context.Context, tx *store.Tx, app store.Application) error {
			d, err := tx.CreateDeployment(ctx, app.ID, store.NewDeployment{})
			if err != nil {
				return err
			}
			if err := tx.BeginStep(ctx, d.ID, "release"); err != nil { // opens a transaction of its own
				return err
			}
			return boom
		}, boom, 0},
		{"nested error rolls back all", func(ctx context.Context, tx *store.Tx, app store.Application) error {
			return tx.WithTx(ctx, func(inner *store.Tx) error {
				if _, err := inner.CreateDeployment(ctx, app.ID, store.NewDeployment{}); err != nil {
					return err
				}
				return boom
			})
		}, boom, 0},
		{"nested commit commits with the outer", func(ctx context.Context, tx *store.Tx, app store.Application) error {
			return tx.WithTx(ctx, func(inner *store.Tx) error {
				_, err := inner.CreateDeployment(ctx, app.ID, store.NewDeployment{})
				return err
			})
		}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, app := newStore(t)
			err := st.WithTx(ctx, func(tx *store.Tx) error { return tt.fn(ctx, tx, app) })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WithTx = %v, want %v", err, tt.wantErr)
			}
			ds, _, err := st.ListDeployments(ctx, app.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != tt.want {
				t.Fatalf("%d deployments, want %d", len(ds), tt.want)
			}
		})
	}
}

// TestFailQueuedDeployment settles only deployments still queued.
func TestFailQueuedDeployment(t *testing.T) {
	ctx := context.Background()
	st, app := newStore(t)
	d, err := st.CreateDeployment(ctx, app.ID, store.NewDeployment{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := st.QueuedDeployments(ctx, &app.ID)
	if err != nil || len(q) != 1 || q[0].ID != d.ID {
		t.Fatalf("queued = %v, %v", q, err)
	}
	if ok, err := st.FailQueuedDeployment(ctx, d.ID, "lost"); err != nil || !ok {
		t.Fatalf("FailQueuedDeployment = %v, %v", ok, err)
	}
	if ok, err := st.FailQueuedDeployment(ctx, d.ID, "again"); err != nil || ok {
		t.Fatalf("second FailQueuedDeployment = %v, %v; want false", ok, err)
	}
	got, err := st.GetDeployment(ctx, d.ID)
	if err != nil || got.Status != store.DeploymentFailed || got.Error != "lost" || got.FinishedAt == nil {
		t.Fatalf("deployment = %+v, %v", got, err)
	}
}
