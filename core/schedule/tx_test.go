package schedule_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestEnqueueIsAllOrNothing: a backup run is recorded with its job, or
// not at all when the job insert fails.
func TestEnqueueIsAllOrNothing(t *testing.T) {
	for _, tt := range []struct {
		name         string
		migrateQueue bool
		wantBackups  int
	}{
		{"job inserted", true, 1},
		{"job insert fails", false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			box, _ := secrets.New(bytes.Repeat([]byte{3}, secrets.KeySize))
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
			app, err := st.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "nginx", Port: 80, Replicas: 1})
			if err != nil {
				t.Fatal(err)
			}
			dest, err := st.CreateBackupDestination(ctx, org.ID, "disk", "backup.local", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.migrateQueue {
				if err := queue.Migrate(ctx, st.Pool()); err != nil {
					t.Fatal(err)
				}
			}
			workers := river.NewWorkers()
			river.AddWorker(workers, &schedule.Worker{Store: st})
			q, err := queue.New(st.Pool(), workers, queue.Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = schedule.Enqueue(ctx, st, q, store.NewBackup{ApplicationID: &app.ID, DestinationID: dest.ID, Kind: "volume",
				Status: store.BackupQueued, Trigger: store.TriggerManual}, 0)
			if (err == nil) != tt.migrateQueue {
				t.Fatalf("Enqueue = %v", err)
			}
			list, err := st.UnfinishedBackups(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != tt.wantBackups {
				t.Fatalf("%d backups recorded, want %d", len(list), tt.wantBackups)
			}
			if len(list) == 1 {
				state, err := q.State(ctx, *list[0].JobID)
				if err != nil || !state.Waiting() {
					t.Fatalf("the backup's job: %q, %v", state, err)
				}
			}
		})
	}
}
