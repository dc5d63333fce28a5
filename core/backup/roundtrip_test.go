package backup_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// engineOps writes known data into a database, destroys it, and
// fingerprints it, with the engine's own client inside the container.
type engineOps struct {
	write, destroy func(e *env, db store.Database)
	checksum       func(e *env, db store.Database) string
}

func psql(e *env, db store.Database, sql string) string {
	c := db.Credentials
	return e.exec(db, "", []string{"PGPASSWORD=" + c.Password}, "psql", "-h", "127.0.0.1", "-U", c.User, "-d", c.Database,
		"-v", "ON_ERROR_STOP=1", "-At", "-c", sql)
}

func mysql(client string) func(e *env, db store.Database, sql string) string {
	return func(e *env, db store.Database, sql string) string {
		return e.exec(db, "", []string{"MYSQL_PWD=" + db.Credentials.RootPassword}, client, "-h", "127.0.0.1", "-u", "root",
			"-N", "-B", db.Credentials.Database, "-e", sql)
	}
}

func redisCLI(e *env, db store.Database, args ...string) string {
	return e.exec(db, "", []string{"REDISCLI_AUTH=" + db.Credentials.Password}, append([]string{"redis-cli", "-h", "127.0.0.1", "--raw"}, args...)...)
}

func sqlOps(run func(e *env, db store.Database, sql string) string, checksum string) engineOps {
	return engineOps{
		write: func(e *env, db store.Database) {
			run(e, db, `CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL)`)
			var values []string
			for i := 1; i <= 500; i++ {
				values = append(values, fmt.Sprintf("(%d, 'item-%d-%x')", i, i, i*7919))
			}
			run(e, db, `INSERT INTO items (id, name) VALUES `+strings.Join(values, ","))
		},
		destroy:  func(e *env, db store.Database) { run(e, db, `DROP TABLE items`) },
		checksum: func(e *env, db store.Database) string { return strings.TrimSpace(run(e, db, checksum)) },
	}
}

var ops = map[database.Engine]engineOps{
	database.Postgres: sqlOps(psql, `SELECT count(*) || ':' || md5(string_agg(id || '=' || name, ',' ORDER BY id)) FROM items`),
	database.MariaDB: sqlOps(mysql("mariadb"), `SET SESSION group_concat_max_len = 1000000;
		SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(id, '=', name ORDER BY id SEPARATOR ','))) FROM items`),
	database.MySQL: sqlOps(mysql("mysql"), `SET SESSION group_concat_max_len = 1000000;
		SELECT CONCAT(COUNT(*), ':', MD5(GROUP_CONCAT(id, '=', name ORDER BY id SEPARATOR ','))) FROM items`),
	database.Redis: {
		write: func(e *env, db store.Database) {
			args := []string{"MSET"}
			for i := 1; i <= 200; i++ {
				args = append(args, fmt.Sprintf("key:%d", i), fmt.Sprintf("value-%x", i*7919))
			}
			redisCLI(e, db, args...)
		},
		destroy: func(e *env, db store.Database) { redisCLI(e, db, "FLUSHALL") },
		checksum: func(e *env, db store.Database) string {
			args := []string{"MGET"}
			for i := 1; i <= 200; i++ {
				args = append(args, fmt.Sprintf("key:%d", i))
			}
			return strings.TrimSpace(redisCLI(e, db, "DBSIZE")) + ":" + strings.TrimSpace(redisCLI(e, db, args...))
		},
	},
}

// TestRoundTrip backs up known data of each engine, destroys it, restores
// it and compares fingerprints; MariaDB's image also serves the MySQL path
// (mysqldump and mysql).
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, engine := range []database.Engine{database.Postgres, database.MariaDB, database.MySQL, database.Redis} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			op := ops[engine]
			db := e.database(engine, "shop")
			op.write(e, db)
			want := op.checksum(e, db)
			if want == "" || strings.HasPrefix(want, "0") {
				t.Fatalf("checksum of written data = %q", want)
			}
			b, err := e.backupNow(db, e.dest, nil)
			if err != nil || b.Status != store.BackupSucceeded {
				t.Fatalf("backup: %v (%+v)", err, b)
			}
			if b.SizeBytes == 0 || len(b.SHA256) != 64 || !strings.HasPrefix(b.Key, string(engine)+"/shop/") ||
				!strings.HasSuffix(b.Key, ".gz") || b.Attempts != 1 {
				t.Errorf("recorded backup = %+v", b)
			}
			if ev := e.events.of(sdk.EventBackupSucceeded); len(ev) != 1 || ev[0].Backup.Key != b.Key || ev[0].Backup.Kind != sdk.BackupKindDatabase || ev[0].EnvironmentID != e.envID.String() {
				t.Errorf("succeeded events = %+v", ev)
			}
			op.destroy(e, db)
			if err := e.runner.Restore(e.ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}, nil); err != nil {
				t.Fatalf("restore: %v", err)
			}
			if got := op.checksum(e, db); got != want {
				t.Errorf("after restore checksum = %q, want %q", got, want)
			}
		})
	}
}

// TestRestoreVerification refuses truncated and corrupted objects before
// the database is touched.
func TestRestoreVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	op := ops[database.Postgres]
	db := e.database(database.Postgres, "shop")
	op.write(e, db)
	want := op.checksum(e, db)
	b, err := e.backupNow(db, e.dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	file := objectFile(t, e.root, b.Key)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// Changes made after the backup show whether the restore touched the database.
	psql(e, db, `INSERT INTO items VALUES (100000, 'after the backup')`)
	after := op.checksum(e, db)
	tests := []struct {
		name   string
		mangle func([]byte) []byte
		why    string
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		{"one byte flipped", func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[len(c)/2] ^= 0x01
			return c
		}, "corrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(file, tt.mangle(good), 0o600); err != nil {
				t.Fatal(err)
			}
			err := e.runner.Restore(e.ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}, nil)
			if !errors.Is(err, backup.ErrVerification) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("restore = %v, want a verification error saying %q", err, tt.why)
			}
			if got := op.checksum(e, db); got != after {
				t.Errorf("the refused restore touched the database: %q, want %q", got, after)
			}
		})
	}
	// An object known only on the destination is verified against its manifest.
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.Restore(e.ctx, backup.RestoreRequest{DestinationID: e.dest.ID, Key: b.Key, DatabaseID: db.ID}, nil); err != nil {
		t.Fatalf("restore by key: %v", err)
	}
	if got := op.checksum(e, db); got != want {
		t.Errorf("after restore by key = %q, want %q", got, want)
	}
}

// TestRestoreIntoAnotherAndStoppedDatabase restores one database's backup
// into a second, stopped database of the same engine: berth starts it,
// restores, and stops it again.
func TestRestoreIntoAnotherAndStoppedDatabase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	op := ops[database.Postgres]
	src := e.database(database.Postgres, "shop")
	op.write(e, src)
	want := op.checksum(e, src)
	b, err := e.backupNow(src, e.dest, nil)
	if err != nil {
		t.Fatal(err)
	}
	dst := e.database(database.Postgres, "copy")
	if err := e.store.SetDatabaseState(e.ctx, dst.ID, store.DatabaseStopped); err != nil {
		t.Fatal(err)
	}
	dst, _ = e.store.GetDatabase(e.ctx, dst.ID)
	if err := e.svc.Stop(e.ctx, dst, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.runner.Restore(e.ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: dst.ID}, nil); err != nil {
		t.Fatalf("restore into a stopped database: %v", err)
	}
	stopped := false
	for deadline := time.Now().Add(time.Minute); !stopped && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		_, err := e.execErr(dst, "", nil, "true")
		stopped = err != nil
	}
	if !stopped {
		t.Error("the stopped database should be stopped again after the restore")
	}
	if err := e.svc.Start(e.ctx, dst, nil); err != nil {
		t.Fatal(err)
	}
	if got := op.checksum(e, dst); got != want {
		t.Errorf("restored copy = %q, want %q", got, want)
	}
	// Another engine is refused.
	other := e.database(database.Redis, "cache")
	if err := e.runner.Restore(e.ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: other.ID}, nil); err == nil ||
		!strings.Contains(err.Error(), "postgres dump") {
		t.Errorf("restore into redis = %v", err)
	}
}

// objectFile finds the file holding key under the local target's directory.
func objectFile(t *testing.T, root, key string) string {
	t.Helper()
	var found string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(filepath.ToSlash(p), "/"+key) {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no file for %s under %s", key, root)
	}
	return found
}

func restoreOf(b store.Backup, db store.Database) backup.RestoreRequest {
	return backup.RestoreRequest{BackupID: b.ID, DatabaseID: db.ID}
}

// objectPath is where the local target keeps key (whether or not it
// exists).
func objectPath(e *env, key string) string {
	return filepath.Join(e.root, filepath.FromSlash(key))
}
