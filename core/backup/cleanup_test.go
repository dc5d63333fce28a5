package backup_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// TestCleanupInterruptedRestore settles the states a killed berth can
// leave a restore in: a fresh database still loading (dropped; the
// previous data serves), a swap that completed before the bookkeeping
// (the old copy dropped; the restored data serves), and a Redis dump kept
// aside (put back).
func TestCleanupInterruptedRestore(t *testing.T) {
	t.Parallel()
	for _, engine := range []database.Engine{database.Postgres, database.MariaDB, database.Redis} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			op := ops[engine]
			db := e.database(engine, "shop")
			op.write(e, db)
			want := op.checksum(e, db)
			id := uuid.New()
			rec := store.Restore{ID: id, Kind: "database", DatabaseID: &db.ID}
			w := database.NewSwap(db.Credentials.Database, id)
			c := db.Credentials
			switch engine {
			case database.Postgres:
				for _, tt := range []struct{ create, note string }{{w.Fresh, "kept its previous data"}, {w.Old, "serves the restored data"}} {
					e.exec(db, "", []string{"PGPASSWORD=" + c.Password}, "createdb", "-h", "127.0.0.1", "-U", c.User, tt.create)
					note, err := e.runner.CleanupRestore(e.ctx, rec)
					if err != nil || !strings.Contains(note, tt.note) {
						t.Fatalf("cleanup with %s left: %q, %v; want a note saying %q", tt.create, note, err, tt.note)
					}
					if l := leftovers(e, db); l != "" {
						t.Errorf("left behind: %s", l)
					}
				}
			case database.MariaDB:
				my := mysql("mariadb")
				my(e, db, "CREATE DATABASE `"+w.Fresh+"`; CREATE DATABASE `"+w.Old+"`; CREATE TABLE `"+w.Fresh+"`.half (id int)")
				note, err := e.runner.CleanupRestore(e.ctx, rec)
				if err != nil || !strings.Contains(note, "kept its previous data") {
					t.Fatalf("cleanup of a load in progress: %q, %v", note, err)
				}
				my(e, db, "CREATE DATABASE `"+w.Fresh+"`; CREATE DATABASE `"+w.Old+"`; CREATE TABLE `"+w.Old+"`.items_before (id int)")
				note, err = e.runner.CleanupRestore(e.ctx, rec)
				if err != nil || !strings.Contains(note, "serves the restored data") {
					t.Fatalf("cleanup after a swap: %q, %v", note, err)
				}
				if l := leftovers(e, db); l != "NULL" && l != "" {
					t.Errorf("left behind: %s", l)
				}
			case database.Redis:
				// The state of a restore killed after it kept the dump aside
				// and wrote a new one.
				redisCLI(e, db, "SAVE")
				e.exec(db, "", nil, "cp", "-p", "/data/dump.rdb", "/data/dump.rdb.berth-prev")
				redisCLI(e, db, "FLUSHALL")
				redisCLI(e, db, "SET", "half", "written")
				redisCLI(e, db, "SAVE")
				note, err := e.runner.CleanupRestore(e.ctx, rec)
				if err != nil || !strings.Contains(note, "previous data back") {
					t.Fatalf("cleanup: %q, %v", note, err)
				}
				if had, err := e.runner.HasRedisPrev(e.ctx, db); err != nil || had {
					t.Errorf("the kept dump is still there (%v)", err)
				}
			}
			if got := op.checksum(e, db); got != want {
				t.Errorf("after the clean-up: %q, want %q", got, want)
			}
		})
	}
}
