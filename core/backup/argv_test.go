package backup_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// TestNoPasswordOnAnyCommandLine runs each engine's real container, backs
// it up, and reads the command line of every process in the container:
// the database's passwords are in none. Redis must still refuse a client
// without the password (it reads requirepass from its config file).
func TestNoPasswordOnAnyCommandLine(t *testing.T) {
	t.Parallel()
	for _, engine := range []database.Engine{database.Postgres, database.MariaDB, database.Redis} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			db := e.database(engine, "argv")
			if b, err := e.backupNow(db, e.dest, nil); err != nil || b.Status != store.BackupSucceeded {
				t.Fatalf("backup: %v (%+v)", err, b)
			}
			// NUL-separated argv of every process, turned into lines.
			cmdlines := e.exec(db, "", nil, "sh", "-c", `for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' < "$f"; echo; done`)
			if !strings.Contains(cmdlines, string(engineBinary[engine])) {
				t.Fatalf("the server process is not listed:\n%s", cmdlines)
			}
			for _, pw := range []string{db.Credentials.Password, db.Credentials.RootPassword} {
				if pw != "" && strings.Contains(cmdlines, pw) {
					t.Fatalf("a password is on a command line:\n%s", cmdlines)
				}
			}
			if engine == database.Redis {
				out, _ := e.execErr(db, "", nil, "sh", "-c", "unset REDISCLI_AUTH; redis-cli -h 127.0.0.1 ping 2>&1")
				if !strings.Contains(out, "NOAUTH") {
					t.Fatalf("redis answers without the password: %q", out)
				}
			}
		})
	}
}

// engineBinary is the server process of each engine.
var engineBinary = map[database.Engine]string{database.Postgres: "postgres", database.MariaDB: "mariadbd", database.Redis: "redis-server"}
