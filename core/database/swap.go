package database

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Swap names the databases of an atomic restore: the dump is loaded into
// Fresh, a new database of the same server, and only once it loaded
// completely is Fresh renamed to Target (the previous Target becoming Old,
// dropped afterwards). Fresh and Old are derived from the restore's id, so
// a restore left behind by a killed process can be cleaned up.
type Swap struct {
	Target string
	Fresh  string
	Old    string
}

// NewSwap returns the names used by restore id into database target.
func NewSwap(target string, id uuid.UUID) Swap {
	h := strings.ReplaceAll(id.String(), "-", "")
	return Swap{Target: target, Fresh: "berth_rs_" + h, Old: "berth_old_" + h}
}

// maintenanceDB is the database PostgreSQL's tools connect to while they
// create, rename and drop others: never the target itself.
func (w Swap) maintenanceDB() string {
	if w.Target == "postgres" {
		return "template1"
	}
	return "postgres"
}

// pgSwapScript renames Target to Old and Fresh to Target in one
// transaction (a DO block): both renames happen or neither does. Other
// sessions on either database are terminated first; a session that
// reconnects in between makes the rename fail with object_in_use and the
// attempt is repeated (for 15 s). Every name comes from psql variables set
// with -v; the script itself is constant.
const pgSwapScript = `\set ON_ERROR_STOP on
SELECT set_config('berth.target', :'target', false), set_config('berth.fresh', :'fresh', false), set_config('berth.old', :'old', false);
DO $berth$
DECLARE
  t text := current_setting('berth.target');
  f text := current_setting('berth.fresh');
  o text := current_setting('berth.old');
BEGIN
  FOR i IN 1..150 LOOP
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (t, f) AND pid <> pg_backend_pid();
    BEGIN
      EXECUTE format('ALTER DATABASE %I RENAME TO %I', t, o);
      EXECUTE format('ALTER DATABASE %I RENAME TO %I', f, t);
      RETURN;
    EXCEPTION WHEN object_in_use THEN
      PERFORM pg_sleep(0.1);
    END;
  END LOOP;
  RAISE EXCEPTION 'database % is still in use after 15 s: not swapped', t;
END
$berth$;
`

// mongoSwapScript moves every collection of the fresh database onto the
// target (renameCollection with dropTarget, each one atomic), drops the
// target's collections the dump did not contain, then drops the fresh
// database. MongoDB has no multi-collection rename: the swap is atomic per
// collection, not for the whole database.
const mongoSwapScript = `exec mongosh --quiet --norc --username "$BERTH_DB_USER" --password "$BERTH_DB_PASSWORD" --authenticationDatabase admin --eval '
const t = process.env.BERTH_DB_NAME, f = process.env.BERTH_DB_FRESH;
const fresh = db.getSiblingDB(f), target = db.getSiblingDB(t);
const names = fresh.getCollectionNames();
for (const c of names) {
  const r = db.adminCommand({renameCollection: f + "." + c, to: t + "." + c, dropTarget: true});
  if (!r.ok) { throw new Error("rename " + c + ": " + r.errmsg); }
}
for (const c of target.getCollectionNames()) {
  if (!names.includes(c) && !c.startsWith("system.")) { target.getCollection(c).drop(); }
}
fresh.dropDatabase();'`

// mongoLoadScript restores an archive into the fresh database, renaming
// the dumped database's namespaces onto it.
const mongoLoadScript = `exec mongorestore --archive --username "$BERTH_DB_USER" --password "$BERTH_DB_PASSWORD" --authenticationDatabase admin --nsFrom "$BERTH_DB_SOURCE.*" --nsTo "$BERTH_DB_FRESH.*"`

// mongoDropScript drops a database named by the environment.
const mongoDropScript = `exec mongosh --quiet --norc --username "$BERTH_DB_USER" --password "$BERTH_DB_PASSWORD" --authenticationDatabase admin --eval 'db.getSiblingDB(process.env.BERTH_DB_DROP).dropDatabase()'`

func (s Spec) mysqlClient(c Credentials, extra ...string) Command {
	tool := "mysql"
	if s.Engine == MariaDB {
		tool = "mariadb"
	}
	argv := append([]string{tool, "-h", "127.0.0.1", "-u", "root"}, extra...)
	return Command{Argv: argv, Env: []string{"MYSQL_PWD=" + c.RootPassword}}
}

func (s Spec) mongoEnv(c Credentials, kv ...string) []string {
	return append([]string{"BERTH_DB_USER=" + c.User, "BERTH_DB_PASSWORD=" + c.Password, "BERTH_DB_NAME=" + c.Database}, kv...)
}

// QuoteMySQL quotes a MySQL/MariaDB identifier.
func QuoteMySQL(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// CreateFresh is the command creating the empty database w.Fresh (for
// PostgreSQL from template0, as pg_restore expects). MongoDB creates it
// on first write; Redis has no databases to swap.
func (s Spec) CreateFresh(c Credentials, w Swap) (Command, error) {
	switch s.Engine {
	case Postgres:
		return Command{Argv: []string{"createdb", "-h", "127.0.0.1", "-U", c.User, "--maintenance-db", w.maintenanceDB(),
			"-T", "template0", w.Fresh}, Env: []string{"PGPASSWORD=" + c.Password}}, nil
	case MySQL, MariaDB:
		return s.mysqlClient(c, "-e", "CREATE DATABASE "+QuoteMySQL(w.Fresh)+"; CREATE DATABASE "+QuoteMySQL(w.Old)), nil
	}
	return Command{}, fmt.Errorf("%s restores do not load into a fresh database", s.Engine)
}

// LoadFresh is the command reading a dump made by Dump on stdin into
// w.Fresh. source is the database name the dump was taken from (MongoDB
// renames namespaces from it).
func (s Spec) LoadFresh(c Credentials, w Swap, source string) (Command, error) {
	switch s.Engine {
	case Postgres:
		return Command{Argv: []string{"pg_restore", "--exit-on-error", "--no-owner", "--no-privileges",
			"-h", "127.0.0.1", "-U", c.User, "-d", w.Fresh}, Env: []string{"PGPASSWORD=" + c.Password}}, nil
	case MySQL, MariaDB:
		return s.mysqlClient(c, w.Fresh), nil
	case MongoDB:
		if source == "" {
			source = c.Database
		}
		return Command{Argv: []string{"sh", "-c", mongoLoadScript},
			Env: s.mongoEnv(c, "BERTH_DB_FRESH="+w.Fresh, "BERTH_DB_SOURCE="+source)}, nil
	}
	return Command{}, fmt.Errorf("%s restores do not load into a fresh database", s.Engine)
}

// SwapIn is the command making the loaded w.Fresh the target. For
// PostgreSQL it reads pgSwapScript on stdin (see SwapScript); MySQL and
// MariaDB need the table lists first (see MySQLSwapSQL); MongoDB renames
// collection by collection.
func (s Spec) SwapIn(c Credentials, w Swap) (Command, error) {
	switch s.Engine {
	case Postgres:
		return Command{Argv: []string{"psql", "-X", "-q", "-h", "127.0.0.1", "-U", c.User, "-d", w.maintenanceDB(),
			"-v", "target=" + w.Target, "-v", "fresh=" + w.Fresh, "-v", "old=" + w.Old}, Env: []string{"PGPASSWORD=" + c.Password}}, nil
	case MySQL, MariaDB:
		return s.mysqlClient(c), nil
	case MongoDB:
		return Command{Argv: []string{"sh", "-c", mongoSwapScript}, Env: s.mongoEnv(c, "BERTH_DB_FRESH="+w.Fresh)}, nil
	}
	return Command{}, fmt.Errorf("%s restores do not swap databases", s.Engine)
}

// SwapScript is the standard input of SwapIn's command for PostgreSQL.
func SwapScript() string { return pgSwapScript }

// Drop is the command dropping database name if it exists (w.Fresh after
// a failure, w.Old after a swap), terminating its sessions.
func (s Spec) Drop(c Credentials, w Swap, name string) (Command, error) {
	if name != w.Fresh && name != w.Old {
		return Command{}, fmt.Errorf("refusing to drop %q: only a restore's own databases are dropped", name)
	}
	switch s.Engine {
	case Postgres:
		return Command{Argv: []string{"dropdb", "-h", "127.0.0.1", "-U", c.User, "--maintenance-db", w.maintenanceDB(),
			"--if-exists", "--force", name}, Env: []string{"PGPASSWORD=" + c.Password}}, nil
	case MySQL, MariaDB:
		return s.mysqlClient(c, "-e", "DROP DATABASE IF EXISTS "+QuoteMySQL(name)), nil
	case MongoDB:
		return Command{Argv: []string{"sh", "-c", mongoDropScript}, Env: s.mongoEnv(c, "BERTH_DB_DROP="+name)}, nil
	}
	return Command{}, fmt.Errorf("%s restores do not create databases", s.Engine)
}

// MySQLInventory is the command printing, one per line and tab-separated,
// the kind and name of every object in w.Target and w.Fresh:
// "<schema>\t<BASE TABLE|VIEW|TRIGGER|ROUTINE|EVENT>\t<name>".
func (s Spec) MySQLInventory(c Credentials, w Swap) Command {
	in := "(" + quoteMySQLString(w.Target) + ", " + quoteMySQLString(w.Fresh) + ")"
	q := "SELECT table_schema, table_type, table_name FROM information_schema.tables WHERE table_schema IN " + in +
		" UNION ALL SELECT trigger_schema, 'TRIGGER', trigger_name FROM information_schema.triggers WHERE trigger_schema IN " + in +
		" UNION ALL SELECT routine_schema, 'ROUTINE', routine_name FROM information_schema.routines WHERE routine_schema IN " + in +
		" UNION ALL SELECT event_schema, 'EVENT', event_name FROM information_schema.events WHERE event_schema IN " + in
	return s.mysqlClient(c, "-N", "-B", "-e", q)
}

func quoteMySQLString(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// MySQLSwapSQL is the statement moving every table of w.Target to w.Old
// and every table of w.Fresh to w.Target in one RENAME TABLE, which MySQL
// and MariaDB apply atomically: readers see the old tables or the new
// ones, never a mix.
func MySQLSwapSQL(w Swap, targetTables, freshTables []string) string {
	var parts []string
	for _, t := range targetTables {
		parts = append(parts, QuoteMySQL(w.Target)+"."+QuoteMySQL(t)+" TO "+QuoteMySQL(w.Old)+"."+QuoteMySQL(t))
	}
	for _, t := range freshTables {
		parts = append(parts, QuoteMySQL(w.Fresh)+"."+QuoteMySQL(t)+" TO "+QuoteMySQL(w.Target)+"."+QuoteMySQL(t))
	}
	if len(parts) == 0 {
		return ""
	}
	return "SET SESSION foreign_key_checks = 0;\nRENAME TABLE " + strings.Join(parts, ",\n  ") + ";\n"
}

// PostgresRestoreDatabases is the command printing which of w.Fresh and
// w.Old exist, one name per line.
func (s Spec) PostgresRestoreDatabases(c Credentials, w Swap) Command {
	return Command{Argv: []string{"psql", "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-U", c.User, "-d", w.maintenanceDB(),
		"-c", "SELECT datname FROM pg_database WHERE datname IN ('" + w.Fresh + "', '" + w.Old + "')"},
		Env: []string{"PGPASSWORD=" + c.Password}}
}
