package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/pgembed"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func TestNewDatabaseIsolated(t *testing.T) {
	a := connect(t, NewDatabase(t))
	b := connect(t, NewDatabase(t))
	nameA := scalar[string](t, a, "SELECT current_database()")
	nameB := scalar[string](t, b, "SELECT current_database()")
	if nameA == nameB {
		t.Fatalf("both databases are %q", nameA)
	}
	const userTables = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
	if n := scalar[int64](t, a, userTables); n != 0 {
		t.Errorf("fresh database has %d tables", n)
	}
	if _, err := a.Exec(context.Background(), "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	if n := scalar[int64](t, b, userTables); n != 0 {
		t.Errorf("table created in %s is visible in %s", nameA, nameB)
	}
}

func TestParallelTests(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			conn := connect(t, NewDatabase(t))
			// Same table name everywhere: would collide without isolation.
			if _, err := conn.Exec(context.Background(), "CREATE TABLE items (id int)"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(context.Background(), "INSERT INTO items VALUES ($1)", i); err != nil {
				t.Fatal(err)
			}
			if n := scalar[int64](t, conn, "SELECT count(*) FROM items"); n != 1 {
				t.Errorf("items has %d rows, want 1", n)
			}
		})
	}
}

func TestDroppedOnCleanup(t *testing.T) {
	var name string
	t.Run("user", func(t *testing.T) {
		conn := connect(t, NewDatabase(t))
		name = scalar[string](t, conn, "SELECT current_database()")
		// Left open on purpose: DROP ... WITH (FORCE) must still succeed.
	})
	admin := connect(t, NewDatabase(t)) // also keeps the shared cluster up
	if scalar[bool](t, admin, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name) {
		t.Errorf("database %s still exists after its test finished", name)
	}
}

func TestExternalServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	other, err := pgembed.Start(ctx, pgembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Stop(context.Background()) })
	admin := connect(t, other.DatabaseURL("postgres"))
	u, err := url.Parse(other.URL())
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, url string
	}{
		{"url", other.DatabaseURL("postgres")},
		{"keyword/value", fmt.Sprintf("host='%s' port=5432 user=%s dbname=postgres sslmode=disable", other.SocketDir(), u.User.Username())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvURL, tt.url)
			var name string
			t.Run("user", func(t *testing.T) {
				conn := connect(t, NewDatabase(t))
				name = scalar[string](t, conn, "SELECT current_database()")
				if got := scalar[string](t, conn, "SHOW unix_socket_directories"); got != other.SocketDir() {
					t.Errorf("database is on the server at %q, want %q", got, other.SocketDir())
				}
			})
			if !strings.HasPrefix(name, "t_") {
				t.Fatalf("unexpected database name %q", name)
			}
			if scalar[bool](t, admin, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name) {
				t.Errorf("database %s not dropped on the external server", name)
			}
		})
	}
}

func TestDatabaseName(t *testing.T) {
	for _, tt := range []string{
		"TestX",
		"TestWith/Subtest_and spaces",
		strings.Repeat("TestVeryLong", 20),
		"TestÜnicode/ünd-mehr",
	} {
		a, b := databaseName(tt), databaseName(tt)
		if a == b {
			t.Errorf("databaseName(%q) not unique: %q", tt, a)
		}
		if len(a) > 63 {
			t.Errorf("databaseName(%q) = %q is %d bytes", tt, a, len(a))
		}
		if strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			t.Errorf("databaseName(%q) = %q has unexpected characters", tt, a)
		}
	}
}

// fakeTB records Fatalf/Skip* instead of acting on them.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	fatal   string
	skipped bool
}

func (f *fakeTB) Helper()      {}
func (f *fakeTB) Name() string { return "TestFake" }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeTB) Skip(...any)          { f.skipped = true; runtime.Goexit() }
func (f *fakeTB) Skipf(string, ...any) { f.skipped = true; runtime.Goexit() }
func (f *fakeTB) SkipNow()             { f.skipped = true; runtime.Goexit() }

func TestFailsWhenPostgresUnavailable(t *testing.T) {
	t.Setenv(EnvURL, "")
	shared.mu.Lock()
	saved := shared.err
	shared.err = fmt.Errorf("start shared test PostgreSQL: %w", pgembed.ErrNoBinaries)
	shared.mu.Unlock()
	defer func() {
		shared.mu.Lock()
		shared.err = saved
		shared.mu.Unlock()
	}()

	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		NewDatabase(f)
	}()
	<-done
	if f.skipped {
		t.Fatal("NewDatabase skipped the test; it must fail it")
	}
	if !strings.Contains(f.fatal, `install the "postgresql" package`) {
		t.Errorf("Fatalf message = %q, want a hint to install postgresql", f.fatal)
	}
	if !errors.Is(shared.err, pgembed.ErrNoBinaries) {
		t.Errorf("unexpected shared error %v", shared.err)
	}
}
