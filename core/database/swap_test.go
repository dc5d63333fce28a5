package database

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

var swapID = uuid.MustParse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")

func TestNewSwap(t *testing.T) {
	w := NewSwap("shop", swapID)
	if w.Target != "shop" || w.Fresh != "berth_rs_0193a1b2c3d47e5f8a9b0c1d2e3f4a5b" || w.Old != "berth_old_0193a1b2c3d47e5f8a9b0c1d2e3f4a5b" {
		t.Fatalf("swap = %+v", w)
	}
	if len(w.Old) > 63 {
		t.Fatalf("%s is longer than PostgreSQL's 63-byte identifiers", w.Old)
	}
	if got := NewSwap("postgres", swapID).maintenanceDB(); got != "template1" {
		t.Errorf("maintenance database of a target named postgres = %s", got)
	}
}

// TestSwapCommands checks every command of an atomic restore, per engine:
// argv without passwords, passwords in the environment only.
func TestSwapCommands(t *testing.T) {
	w := NewSwap("shop", swapID)
	pgEnv := []string{"PGPASSWORD=s3cret"}
	myEnv := []string{"MYSQL_PWD=r00t"}
	mongoEnv := []string{"BERTH_DB_USER=berth", "BERTH_DB_PASSWORD=s3cret", "BERTH_DB_NAME=shop"}
	tests := []struct {
		engine Engine
		step   string
		cmd    func(Spec) (Command, error)
		argv   []string
		env    []string
	}{
		{Postgres, "create", func(s Spec) (Command, error) { return s.CreateFresh(creds, w) },
			[]string{"createdb", "-h", "127.0.0.1", "-U", "berth", "--maintenance-db", "postgres", "-T", "template0", w.Fresh}, pgEnv},
		{Postgres, "load", func(s Spec) (Command, error) { return s.LoadFresh(creds, w, "orders") },
			[]string{"pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-U", "berth", "-d", w.Fresh}, pgEnv},
		{Postgres, "swap", func(s Spec) (Command, error) { return s.SwapIn(creds, w) },
			[]string{"psql", "-X", "-q", "-h", "127.0.0.1", "-U", "berth", "-d", "postgres", "-v", "target=shop", "-v", "fresh=" + w.Fresh, "-v", "old=" + w.Old}, pgEnv},
		{Postgres, "drop", func(s Spec) (Command, error) { return s.Drop(creds, w, w.Old) },
			[]string{"dropdb", "-h", "127.0.0.1", "-U", "berth", "--maintenance-db", "postgres", "--if-exists", "--force", w.Old}, pgEnv},
		{MariaDB, "create", func(s Spec) (Command, error) { return s.CreateFresh(creds, w) },
			[]string{"mariadb", "-h", "127.0.0.1", "-u", "root", "-e", "CREATE DATABASE `" + w.Fresh + "`; CREATE DATABASE `" + w.Old + "`"}, myEnv},
		{MySQL, "load", func(s Spec) (Command, error) { return s.LoadFresh(creds, w, "orders") },
			[]string{"mysql", "-h", "127.0.0.1", "-u", "root", w.Fresh}, myEnv},
		{MySQL, "swap", func(s Spec) (Command, error) { return s.SwapIn(creds, w) },
			[]string{"mysql", "-h", "127.0.0.1", "-u", "root"}, myEnv},
		{MariaDB, "drop", func(s Spec) (Command, error) { return s.Drop(creds, w, w.Fresh) },
			[]string{"mariadb", "-h", "127.0.0.1", "-u", "root", "-e", "DROP DATABASE IF EXISTS `" + w.Fresh + "`"}, myEnv},
		{MongoDB, "load", func(s Spec) (Command, error) { return s.LoadFresh(creds, w, "orders") },
			[]string{"sh", "-c", mongoLoadScript}, append(mongoEnv, "BERTH_DB_FRESH="+w.Fresh, "BERTH_DB_SOURCE=orders")},
		{MongoDB, "swap", func(s Spec) (Command, error) { return s.SwapIn(creds, w) },
			[]string{"sh", "-c", mongoSwapScript}, append(mongoEnv, "BERTH_DB_FRESH="+w.Fresh)},
		{MongoDB, "drop", func(s Spec) (Command, error) { return s.Drop(creds, w, w.Fresh) },
			[]string{"sh", "-c", mongoDropScript}, append(mongoEnv, "BERTH_DB_DROP="+w.Fresh)},
	}
	for _, tt := range tests {
		t.Run(string(tt.engine)+"/"+tt.step, func(t *testing.T) {
			s, _ := Lookup(tt.engine)
			c, err := tt.cmd(s)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Argv, tt.argv) || !slices.Equal(c.Env, tt.env) {
				t.Errorf("got %q %q\nwant %q %q", c.Argv, c.Env, tt.argv, tt.env)
			}
			for _, a := range c.Argv {
				if strings.Contains(a, creds.Password) || strings.Contains(a, creds.RootPassword) {
					t.Errorf("a password reached argv: %q", a)
				}
			}
		})
	}
}

func TestSwapRefusals(t *testing.T) {
	w := NewSwap("shop", swapID)
	pg, _ := Lookup(Postgres)
	if _, err := pg.Drop(creds, w, "shop"); err == nil {
		t.Error("Drop of the target itself was accepted")
	}
	redis, _ := Lookup(Redis)
	for name, f := range map[string]func() (Command, error){
		"create": func() (Command, error) { return redis.CreateFresh(creds, w) },
		"load":   func() (Command, error) { return redis.LoadFresh(creds, w, "") },
		"swap":   func() (Command, error) { return redis.SwapIn(creds, w) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("redis %s: no error", name)
		}
	}
	mongo, _ := Lookup(MongoDB)
	if _, err := mongo.CreateFresh(creds, w); err == nil {
		t.Error("mongodb creates its fresh database on first write; CreateFresh should refuse")
	}
}

// TestSwapScripts checks the constant scripts take every name from
// variables or the environment and do what the swap needs.
func TestSwapScripts(t *testing.T) {
	for _, want := range []string{`\set ON_ERROR_STOP on`, ":'target'", ":'fresh'", ":'old'", "pg_terminate_backend",
		"ALTER DATABASE %I RENAME TO %I", "EXCEPTION WHEN object_in_use"} {
		if !strings.Contains(SwapScript(), want) {
			t.Errorf("PostgreSQL swap script lacks %q", want)
		}
	}
	for _, want := range []string{"renameCollection", "dropTarget: true", "process.env.BERTH_DB_FRESH", "process.env.BERTH_DB_NAME",
		"dropDatabase()", `--password "$BERTH_DB_PASSWORD"`} {
		if !strings.Contains(mongoSwapScript, want) {
			t.Errorf("MongoDB swap script lacks %q", want)
		}
	}
	for _, want := range []string{"mongorestore --archive", `--nsFrom "$BERTH_DB_SOURCE.*"`, `--nsTo "$BERTH_DB_FRESH.*"`} {
		if !strings.Contains(mongoLoadScript, want) {
			t.Errorf("MongoDB load script lacks %q", want)
		}
	}
	if strings.Contains(mongoLoadScript, "--drop") {
		t.Error("loading into a fresh database needs no --drop")
	}
}

func TestMySQLSwapSQL(t *testing.T) {
	w := NewSwap("shop", swapID)
	tests := []struct {
		name          string
		target, fresh []string
		want          string
	}{
		{"none", nil, nil, ""},
		{"both", []string{"items", "old`one"}, []string{"items"},
			"SET SESSION foreign_key_checks = 0;\nRENAME TABLE `shop`.`items` TO `" + w.Old + "`.`items`,\n  `shop`.`old``one` TO `" + w.Old +
				"`.`old``one`,\n  `" + w.Fresh + "`.`items` TO `shop`.`items`;\n"},
		{"empty target", nil, []string{"a"}, "SET SESSION foreign_key_checks = 0;\nRENAME TABLE `" + w.Fresh + "`.`a` TO `shop`.`a`;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MySQLSwapSQL(w, tt.target, tt.fresh); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	s, _ := Lookup(MariaDB)
	inv := s.MySQLInventory(creds, w)
	if q := inv.Argv[len(inv.Argv)-1]; !strings.Contains(q, "IN ('shop', '"+w.Fresh+"')") || !strings.Contains(q, "information_schema.triggers") {
		t.Errorf("inventory query = %s", q)
	}
	if QuoteMySQL("a`b") != "`a``b`" || quoteMySQLString(`it's\`) != `'it\'s\\'` {
		t.Error("quoting")
	}
}
