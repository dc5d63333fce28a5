package database

import (
	"slices"
	"strings"
	"testing"
)

var creds = Credentials{User: "berth", Password: "s3cret", Database: "shop", RootPassword: "r00t"}

func TestCatalogue(t *testing.T) {
	tests := []struct {
		engine   Engine
		image    string
		port     int
		dataPath string
		url      string
	}{
		{Postgres, "postgres:16", 5432, "/var/lib/postgresql/data", "postgresql://berth:s3cret@db-1:5432/shop"},
		{MySQL, "mysql:8.4", 3306, "/var/lib/mysql", "mysql://berth:s3cret@db-1:3306/shop"},
		{MariaDB, "mariadb:11", 3306, "/var/lib/mysql", "mysql://berth:s3cret@db-1:3306/shop"},
		{MongoDB, "mongo:7", 27017, "/data/db", "mongodb://berth:s3cret@db-1:27017/shop?authSource=admin"},
		{Redis, "redis:7", 6379, "/data", "redis://:s3cret@db-1:6379"},
	}
	for _, tt := range tests {
		t.Run(string(tt.engine), func(t *testing.T) {
			s, ok := Lookup(tt.engine)
			if !ok {
				t.Fatalf("Lookup(%s) failed", tt.engine)
			}
			if got := s.ImageRef("", ""); got != tt.image {
				t.Errorf("default image = %q, want %q", got, tt.image)
			}
			if s.Port != tt.port || s.DataPath != tt.dataPath {
				t.Errorf("port, data path = %d, %q", s.Port, s.DataPath)
			}
			if got := s.URL(creds, "db-1", s.Port); got != tt.url {
				t.Errorf("URL = %q, want %q", got, tt.url)
			}
			for _, a := range s.HealthCheck(creds) {
				if strings.Contains(a, creds.Password) || strings.Contains(a, creds.RootPassword) {
					t.Errorf("health check carries a password: %v", s.HealthCheck(creds))
				}
			}
		})
	}
	if _, ok := Lookup("oracle"); ok {
		t.Error("Lookup(oracle) succeeded")
	}
}

func TestImageRef(t *testing.T) {
	s, _ := Lookup(Postgres)
	tests := []struct{ image, version, want string }{
		{"", "", "postgres:16"},
		{"", "15", "postgres:15"},
		{"berth-test/postgres", "15", "berth-test/postgres:15"},
		{"berth-test/postgres:15", "16", "berth-test/postgres:15"},
		{"registry:5000/pg", "", "registry:5000/pg:16"},
		{"pg@sha256:abc", "", "pg@sha256:abc"},
	}
	for _, tt := range tests {
		if got := s.ImageRef(tt.image, tt.version); got != tt.want {
			t.Errorf("ImageRef(%q, %q) = %q, want %q", tt.image, tt.version, got, tt.want)
		}
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		engine Engine
		want   map[string]string
	}{
		{Postgres, map[string]string{"POSTGRES_USER": "berth", "POSTGRES_PASSWORD": "s3cret", "POSTGRES_DB": "shop", "PGDATA": "/var/lib/postgresql/data"}},
		{MySQL, map[string]string{"MYSQL_ROOT_PASSWORD": "r00t", "MYSQL_DATABASE": "shop", "MYSQL_USER": "berth", "MYSQL_PASSWORD": "s3cret"}},
		{MariaDB, map[string]string{"MARIADB_ROOT_PASSWORD": "r00t", "MARIADB_DATABASE": "shop", "MARIADB_USER": "berth", "MARIADB_PASSWORD": "s3cret"}},
		{MongoDB, map[string]string{"MONGO_INITDB_ROOT_USERNAME": "berth", "MONGO_INITDB_ROOT_PASSWORD": "s3cret", "MONGO_INITDB_DATABASE": "shop"}},
		{Redis, map[string]string{"REDISCLI_AUTH": "s3cret"}},
	}
	for _, tt := range tests {
		s, _ := Lookup(tt.engine)
		got := s.Env(creds)
		if len(got) != len(tt.want) {
			t.Errorf("%s: Env = %v, want %v", tt.engine, got, tt.want)
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s: Env[%s] = %q, want %q", tt.engine, k, got[k], v)
			}
		}
	}
	r, _ := Lookup(Redis)
	if args := r.Args(creds); !slices.Equal(args[:2], []string{"redis-server", RedisConfigFile}) ||
		!slices.Contains(args, "--appendonly") {
		t.Errorf("redis args = %v", args)
	}
	if f := r.Files(creds); len(f) != 1 || f[0].Path != RedisConfigFile || string(f[0].Data) != "requirepass \"s3cret\"\n" {
		t.Errorf("redis files = %q", f)
	}
}

func TestDumpAndRestoreCommands(t *testing.T) {
	tests := []struct {
		engine      Engine
		dump        []string
		dumpEnv     []string
		restore     []string
		restoreEnv  []string
		restoreFail bool
	}{
		{Postgres,
			[]string{"pg_dump", "-Fc", "-h", "127.0.0.1", "-U", "berth", "-d", "shop"}, []string{"PGPASSWORD=s3cret"},
			[]string{"pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "-h", "127.0.0.1", "-U", "berth", "-d", "shop"}, []string{"PGPASSWORD=s3cret"}, false},
		{MySQL,
			[]string{"mysqldump", "--single-transaction", "--routines", "--triggers", "--events", "-h", "127.0.0.1", "-u", "root", "shop"}, []string{"MYSQL_PWD=r00t"},
			[]string{"mysql", "-h", "127.0.0.1", "-u", "root", "shop"}, []string{"MYSQL_PWD=r00t"}, false},
		{MariaDB,
			[]string{"mariadb-dump", "--single-transaction", "--routines", "--triggers", "--events", "-h", "127.0.0.1", "-u", "root", "shop"}, []string{"MYSQL_PWD=r00t"},
			[]string{"mariadb", "-h", "127.0.0.1", "-u", "root", "shop"}, []string{"MYSQL_PWD=r00t"}, false},
		{MongoDB,
			[]string{"sh", "-c", mongoDumpScript}, []string{"BERTH_DB_USER=berth", "BERTH_DB_NAME=shop", `BERTH_MONGO_CONFIG=password: "s3cret"`},
			[]string{"sh", "-c", mongoRestoreScript}, []string{"BERTH_DB_USER=berth", "BERTH_DB_NAME=shop", `BERTH_MONGO_CONFIG=password: "s3cret"`, "BERTH_DB_SOURCE=orders"}, false},
		{Redis,
			[]string{"redis-cli", "-h", "127.0.0.1", "--rdb", "-"}, []string{"REDISCLI_AUTH=s3cret"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.engine), func(t *testing.T) {
			s, _ := Lookup(tt.engine)
			d, err := s.Dump(creds)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Argv, tt.dump) || !slices.Equal(d.Env, tt.dumpEnv) {
				t.Errorf("Dump = %q %q", d.Argv, d.Env)
			}
			r, err := s.Restore(creds, "orders")
			if tt.restoreFail {
				if err == nil {
					t.Errorf("Restore succeeded for %s", tt.engine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Argv, tt.restore) || !slices.Equal(r.Env, tt.restoreEnv) {
				t.Errorf("Restore = %q %q", r.Argv, r.Env)
			}
			for _, a := range append(d.Argv, r.Argv...) {
				if strings.Contains(a, creds.Password) || strings.Contains(a, creds.RootPassword) {
					t.Errorf("a password reached argv: %q", a)
				}
			}
		})
	}
}

// TestMongoScripts checks the constant shell scripts take every value from
// the environment and name the flags the Mongo tools need (MongoDB is not
// in Debian, so it cannot run in tests here).
func TestMongoScripts(t *testing.T) {
	for _, want := range []string{"mongodump", `--config "$cfg"`, "--archive", `--username "$BERTH_DB_USER"`,
		"--authenticationDatabase admin", `--db "$BERTH_DB_NAME"`} {
		if !strings.Contains(mongoDumpScript, want) {
			t.Errorf("dump script lacks %q", want)
		}
	}
	for _, script := range []string{mongoDumpScript, mongoRestoreScript} {
		if strings.Contains(script, "--password") {
			t.Errorf("a script passes --password: %s", script)
		}
	}
	for _, want := range []string{"mongorestore", `--config "$cfg"`, "--archive", "--drop", `--nsFrom "$BERTH_DB_SOURCE.*"`, `--nsTo "$BERTH_DB_NAME.*"`} {
		if !strings.Contains(mongoRestoreScript, want) {
			t.Errorf("restore script lacks %q", want)
		}
	}
	s, _ := Lookup(MongoDB)
	r, _ := s.Restore(creds, "")
	if !slices.Contains(r.Env, "BERTH_DB_SOURCE=shop") {
		t.Errorf("restore without a source should rename from the target: %v", r.Env)
	}
}

func TestNewCredentials(t *testing.T) {
	tests := []struct {
		engine   Engine
		name     string
		database string
		root     bool
	}{
		{Postgres, "Shop-DB", "shop_db", false},
		{MySQL, "9lives", "db_9lives", true},
		{MariaDB, "orders", "orders", true},
		{MongoDB, "events", "events", false},
		{Redis, "cache", "", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		c, err := NewCredentials(tt.engine, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Database != tt.database || (c.RootPassword != "") != tt.root || len(c.Password) != 32 {
			t.Errorf("%s: %+v", tt.engine, c)
		}
		if seen[c.Password] {
			t.Errorf("password repeated")
		}
		seen[c.Password] = true
	}
	if _, err := NewCredentials("oracle", "x"); err == nil {
		t.Error("unknown engine accepted")
	}
}

func TestDatabaseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"shop", "shop"}, {"My App", "my_app"}, {"--", "db"}, {"1st", "db_1st"}, {strings.Repeat("a", 80), strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		if got := DatabaseName(tt.in); got != tt.want {
			t.Errorf("DatabaseName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
