// Package pgtest gives tests a fresh PostgreSQL database each.
//
// Usage in a package's tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pgtest.NewDatabase(t) // empty database, dropped after the test
//		...
//	}
//
// Databases live on one embedded cluster (core/pgembed) shared by the whole
// test binary, started lazily in a temporary directory by the first
// NewDatabase. Lifetime of that cluster:
//
//   - With Main in TestMain (recommended) it runs until all tests are done,
//     then Main stops it and removes its directory.
//   - Without Main it is stopped and removed by the t.Cleanup of the last
//     test still using it, so it never outlives the test binary; a later
//     test starts a new one (about 1–2 s for initdb each time).
//
// When BERTH_TEST_DATABASE_URL is set (e.g. a PostgreSQL service in CI), no
// cluster is started: databases are created on that server instead, using
// the URL as the administrative connection (its role needs CREATEDB;
// PostgreSQL 13+).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/pgembed"
	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable that points NewDatabase at an
// existing server instead of the embedded cluster.
const EnvURL = "BERTH_TEST_DATABASE_URL"

var shared struct {
	mu       sync.Mutex
	cluster  *pgembed.Cluster
	dir      string
	err      error // sticky start failure, reported to every later test
	users    int   // tests holding a database on cluster
	withMain bool  // Main is running: keep the cluster until it returns
}

// Main is a TestMain helper: os.Exit(pgtest.Main(m)) runs the tests and then
// stops the shared cluster and removes its directory. A failure to stop it
// makes the run fail.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.withMain = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.withMain = false
	if err := shutdownLocked(); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// NewDatabase returns the URL of a fresh, empty database on a cluster shared
// by the whole test binary (see the package documentation for its
// lifetime), or on the server named by BERTH_TEST_DATABASE_URL when set.
// The database is dropped (WITH (FORCE), so open connections do not block
// it) in t.Cleanup. It fails the test with t.Fatalf, never skips it, when
// PostgreSQL cannot be started, e.g. because its binaries are missing.
func NewDatabase(t testing.TB) string {
	t.Helper()
	adminURL, release, err := acquire()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := execSQL(ctx, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		release()
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer release()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := execSQL(ctx, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := withDatabase(adminURL, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return u
}

// acquire returns an administrative URL and a func to call when the
// database made with it has been dropped.
func acquire() (adminURL string, release func(), err error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, func() {}, nil
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.err != nil {
		return "", nil, shared.err
	}
	if shared.cluster == nil {
		if err := startLocked(); err != nil {
			shared.err = err
			return "", nil, err
		}
	}
	shared.users++
	var once sync.Once
	return shared.cluster.DatabaseURL("postgres"), func() {
		once.Do(func() {
			shared.mu.Lock()
			defer shared.mu.Unlock()
			shared.users--
			if shared.users == 0 && !shared.withMain {
				if err := shutdownLocked(); err != nil {
					fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
				}
			}
		})
	}, nil
}

func startLocked() error {
	dir, err := os.MkdirTemp("", "berth-pgtest-")
	if err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgembed.Start(ctx, pgembed.Options{Dir: dir})
	if err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("start shared test PostgreSQL (set %s to use an existing server instead): %w", EnvURL, err)
	}
	shared.cluster, shared.dir = c, dir
	return nil
}

func shutdownLocked() error {
	if shared.cluster == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := shared.cluster.Stop(ctx)
	if err == nil {
		err = os.RemoveAll(shared.dir)
	}
	shared.cluster, shared.dir = nil, ""
	if err != nil {
		return fmt.Errorf("stop shared test PostgreSQL: %w", err)
	}
	return nil
}

func execSQL(ctx context.Context, connURL, sql string) error {
	conn, err := pgx.Connect(ctx, connURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseName derives a unique, valid identifier (at most 63 bytes) from
// the test name plus random bytes, so concurrent test binaries sharing a
// server never collide.
func databaseName(testName string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 2+36 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	rnd := make([]byte, 6)
	_, _ = rand.Read(rnd)
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(rnd))
	return b.String()
}

// withDatabase returns connStr (URL or keyword/value form) pointing at db.
func withDatabase(connStr, db string) (string, error) {
	if strings.HasPrefix(connStr, "postgres://") || strings.HasPrefix(connStr, "postgresql://") {
		u, err := url.Parse(connStr)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvURL, err)
		}
		u.Path, u.RawPath = "/"+db, ""
		return u.String(), nil
	}
	// Keyword/value form: a later dbname overrides an earlier one.
	return connStr + " dbname=" + db, nil
}
