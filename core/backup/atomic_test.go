package backup_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// leftovers lists the databases restores created (berth_rs_*, berth_old_*)
// still on db's server.
func leftovers(e *env, db store.Database) string {
	switch db.Engine {
	case database.Postgres:
		return strings.TrimSpace(psql(e, db, `SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'berth\_%'`))
	case database.MariaDB, database.MySQL:
		return strings.TrimSpace(mysql("mariadb")(e, db, `SELECT GROUP_CONCAT(schema_name) FROM information_schema.schemata WHERE schema_name LIKE 'berth\_%'`))
	}
	return ""
}

// writeObject stores content gzip-compressed under key on the test's local
// destination with a manifest describing it truthfully, so it passes
// verification: only loading it can fail.
func writeObject(t *testing.T, e *env, key string, m backup.Manifest, content []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(content)
	zw.Close()
	sum := sha256.Sum256(buf.Bytes())
	m.SizeBytes, m.SHA256 = int64(buf.Len()), hex.EncodeToString(sum[:])
	mj, _ := json.Marshal(m)
	p := objectPath(e, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".json", mj, 0o600); err != nil {
		t.Fatal(err)
	}
}

// content is the decompressed content of a recorded backup's object.
func content(t *testing.T, e *env, b store.Backup) []byte {
	t.Helper()
	f, err := os.Open(objectFile(t, e.root, b.Key))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRestoreIsAtomic: a restore whose load fails midway (a dump cut in
// the middle that still passes verification) or that is cancelled while
// loading leaves the previous data serving, checksum for checksum, and no
// temporary database behind; the next restore succeeds with the backup's
// data, readable by the application's own user.
func TestRestoreIsAtomic(t *testing.T) {
	t.Parallel()
	for _, engine := range []database.Engine{database.Postgres, database.MariaDB} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			op := ops[engine]
			db := e.database(engine, "shop")
			op.write(e, db)
			want := op.checksum(e, db)
			b, err := e.backupNow(db, e.dest, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Data written after the backup shows whether a restore touched the database.
			if engine == database.Postgres {
				psql(e, db, `INSERT INTO items VALUES (100000, 'after the backup')`)
			} else {
				mysql("mariadb")(e, db, `INSERT INTO items VALUES (100000, 'after the backup')`)
			}
			before := op.checksum(e, db)
			if before == want {
				t.Fatal("the change after the backup did not change the checksum")
			}

			dump := content(t, e, b)
			cut := "midway/" + string(engine) + "/cut.gz"
			writeObject(t, e, cut, backup.Manifest{Kind: "database", Engine: engine, Database: db.Name, DBName: db.Credentials.Database},
				dump[:len(dump)*6/10])
			err = e.runner.Restore(e.ctx, backup.RestoreRequest{ID: uuid.New(), DestinationID: e.dest.ID, Key: cut, DatabaseID: db.ID}, nil)
			if err == nil || !strings.Contains(err.Error(), "still has its previous data") {
				t.Fatalf("restore of a cut dump = %v, want a failure keeping the previous data", err)
			}
			if got := op.checksum(e, db); got != before {
				t.Errorf("after the failed restore: %q, want the previous %q", got, before)
			}
			if l := leftovers(e, db); l != "" && l != "NULL" {
				t.Errorf("left behind by the failed restore: %s", l)
			}

			// Cancelled while loading.
			ctx, cancel := context.WithCancel(e.ctx)
			err = e.runner.Restore(ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}, func(phase string) {
				if strings.HasPrefix(phase, "loading") {
					cancel()
				}
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled restore = %v", err)
			}
			if got := op.checksum(e, db); got != before {
				t.Errorf("after the cancelled restore: %q, want the previous %q", got, before)
			}
			if l := leftovers(e, db); l != "" && l != "NULL" {
				t.Errorf("left behind by the cancelled restore: %s", l)
			}

			// The next restore succeeds.
			var phases []string
			if err := e.runner.Restore(e.ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}, func(p string) { phases = append(phases, p) }); err != nil {
				t.Fatalf("restore: %v (phases %q)", err, phases)
			}
			if got := op.checksum(e, db); got != want {
				t.Errorf("after the restore: %q, want the backup's %q", got, want)
			}
			if l := leftovers(e, db); l != "" && l != "NULL" {
				t.Errorf("left behind by the restore: %s", l)
			}
			// The application's own login still reads the restored data.
			c := db.Credentials
			var n string
			if engine == database.Postgres {
				n = e.exec(db, "", []string{"PGPASSWORD=" + c.Password}, "psql", "-h", "127.0.0.1", "-U", c.User, "-d", c.Database, "-At", "-c", "SELECT count(*) FROM items")
			} else {
				n = e.exec(db, "", []string{"MYSQL_PWD=" + c.Password}, "mariadb", "-h", "127.0.0.1", "-u", c.User, "-N", "-B", c.Database, "-e", "SELECT COUNT(*) FROM items")
			}
			if strings.TrimSpace(n) != "500" {
				t.Errorf("the application user reads %q rows, want 500", n)
			}
		})
	}
}

// TestRedisRestoreRollsBack: a Redis restore cancelled while the new
// dump.rdb is written puts the previous one back and starts Redis on it.
func TestRedisRestoreRollsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	op := ops[database.Redis]
	db := e.database(database.Redis, "cache")
	op.write(e, db)
	want := op.checksum(e, db)
	b, err := e.backupNow(db, e.dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	redisCLI(e, db, "SET", "key:1", "changed after the backup")
	before := op.checksum(e, db)
	ctx, cancel := context.WithCancel(e.ctx)
	err = e.runner.Restore(ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}, func(phase string) {
		if strings.HasPrefix(phase, "writing the restored") {
			cancel()
		}
	})
	cancel()
	if err == nil || !strings.Contains(err.Error(), "still has its previous data") {
		t.Fatalf("cancelled restore = %v", err)
	}
	if got := op.checksum(e, db); got != before {
		t.Errorf("after the cancelled restore: %q, want the previous %q", got, before)
	}
	if err := e.runner.Restore(e.ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}, nil); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got := op.checksum(e, db); got != want {
		t.Errorf("after the restore: %q, want %q", got, want)
	}
	if had, err := e.runner.HasRedisPrev(e.ctx, db); err != nil || had {
		t.Errorf("the previous dump is still kept aside after a successful restore (%v)", err)
	}
}
