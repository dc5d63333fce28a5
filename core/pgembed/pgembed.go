// Package pgembed runs berth's embedded PostgreSQL cluster.
//
// When berth is started without DATABASE_URL it keeps its control-plane
// database in a private PostgreSQL cluster inside its data directory, using
// the PostgreSQL server binaries installed on the host (Debian/Ubuntu:
// /usr/lib/postgresql/<major>/bin). The cluster listens on a unix socket only
// (listen_addresses = ”), accepts password-less ("trust") connections for a
// single role over that socket, and the socket directory is mode 0700 so only
// the cluster's OS user (and root) can reach it.
//
// Layout of Options.Dir:
//
//	<Dir>/data/          PGDATA (created by initdb)
//	<Dir>/data/berth.conf settings managed by berth, rewritten on every start
//	<Dir>/run/           unix socket directory (or a short /tmp fallback)
//	<Dir>/postgres.log   server log
//	<Dir>/pgembed.lock   serialises concurrent Start calls on the same Dir
//
// Settings in berth.conf can be overridden with ALTER SYSTEM, because
// postgresql.auto.conf is read after postgresql.conf.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options configures Start.
type Options struct {
	// Dir is the cluster directory (created if missing); initdb runs only
	// when it holds no cluster yet. See the package documentation for its
	// layout.
	Dir string
	// BinDir is the directory holding initdb, pg_ctl and postgres. It is
	// autodetected when empty (see FindBinDir).
	BinDir string
	// Database is the database that Start ensures exists; default "berth".
	Database string
	// Logger receives berth's own messages about the cluster (optional).
	// The PostgreSQL server log always goes to <Dir>/postgres.log.
	Logger *slog.Logger
	// StartTimeout bounds how long Start waits for the server to accept
	// connections (crash recovery included); default 30s. initdb is bounded
	// only by the context passed to Start.
	StartTimeout time.Duration
}

// Cluster is a running embedded PostgreSQL cluster returned by Start.
// Its methods are safe for concurrent use.
type Cluster struct {
	dir       string // Options.Dir, absolute
	dataDir   string // <dir>/data
	bin       binaries
	run       runAs
	role      string // superuser role name (the OS user running postgres)
	database  string
	socketDir string
	tmpSocket bool // socketDir is a /tmp fallback, removed by Stop
	port      int
	pid       int
	log       *slog.Logger

	mu      sync.Mutex
	stopped bool
}

// ErrNoBinaries is returned (wrapped) by Start and FindBinDir when the
// PostgreSQL server binaries cannot be found.
var ErrNoBinaries = errors.New(`PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; ` +
	`install the "postgresql" package (e.g. apt-get install postgresql) or set the PostgreSQL bin directory explicitly`)

// ErrNoPostgresUser is returned (wrapped) by Start when berth runs as root
// and there is no unprivileged "postgres" OS user to run the server as.
var ErrNoPostgresUser = errors.New(`PostgreSQL refuses to run as root and no "postgres" OS user exists; ` +
	`install the "postgresql" package (it creates that user) or run berth as an unprivileged user`)

const (
	defaultDatabase     = "berth"
	defaultStartTimeout = 30 * time.Second
	dataSubdir          = "data"
	stagingSubdir       = "data.initdb" // initdb target, renamed to data on success
	socketSubdir        = "run"
	logFileName         = "postgres.log"
	lockFileName        = "pgembed.lock"
	confFileName        = "berth.conf"
	includeLine         = "include = '" + confFileName + "'"
	defaultPort         = 5432
	// maxSocketPath is the longest unix socket path PostgreSQL accepts:
	// sizeof(sockaddr_un.sun_path) (108 on Linux) minus the trailing NUL.
	maxSocketPath = 107
	// logRotateSize: postgres.log is moved to postgres.log.1 at start when
	// larger than this (the server appends to it for its whole life).
	logRotateSize = 8 << 20
	minMajor      = 13 // --no-instructions, DROP DATABASE ... WITH (FORCE)
)

// Start starts (initialising it first if needed) the cluster in opts.Dir,
// waits until it accepts connections and makes sure opts.Database exists.
//
// If a postmaster for the cluster is already running (for example berth
// crashed and was restarted while PostgreSQL survived), Start reuses it. A
// stale postmaster.pid left by a crashed server is recovered from. Stop the
// returned Cluster when done; it keeps running if the caller exits without
// stopping it, and the next Start on the same Dir will reuse it.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgembed: Options.Dir is required")
	}
	if opts.Database == "" {
		opts.Database = defaultDatabase
	}
	if len(opts.Database) > 63 || strings.ContainsRune(opts.Database, 0) {
		return nil, fmt.Errorf("pgembed: invalid database name %q", opts.Database)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "pgembed")

	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: resolve cluster dir %q: %w", opts.Dir, err)
	}
	run, err := currentRunAs()
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	if err := prepareClusterDir(dir, run, log); err != nil {
		return nil, fmt.Errorf("pgembed: prepare cluster dir: %w", err)
	}
	unlock, err := lockDir(ctx, filepath.Join(dir, lockFileName))
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	defer unlock()

	c := &Cluster{
		dir:      dir,
		dataDir:  filepath.Join(dir, dataSubdir),
		run:      run,
		role:     run.name,
		database: opts.Database,
		port:     defaultPort,
		log:      log,
	}
	clusterMajor, err := readClusterMajor(c.dataDir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	c.bin, err = findBinaries(ctx, opts.BinDir, clusterMajor)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	if clusterMajor == 0 {
		t0 := time.Now()
		if err := c.initdb(ctx); err != nil {
			return nil, fmt.Errorf("pgembed: %w", err)
		}
		log.Info("initialised PostgreSQL cluster", "dir", c.dataDir, "version", c.bin.major, "took", time.Since(t0).Round(time.Millisecond))
	}

	deadline := time.Now().Add(opts.StartTimeout)
	reused, err := c.tryReuse(ctx, deadline)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	if !reused {
		if err := c.start(ctx, opts.StartTimeout); err != nil {
			return nil, fmt.Errorf("pgembed: %w", err)
		}
	}
	if err := c.ensureDatabase(ctx); err != nil {
		if !reused {
			c.stopQuietly()
		}
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	return c, nil
}

// URL returns a pgx/libpq connection URL for Options.Database over the
// cluster's unix socket, e.g.
// "postgres://postgres@/berth?host=%2Fvar%2Flib%2Fberth%2Fpg%2Frun&port=5432&sslmode=disable".
func (c *Cluster) URL() string { return c.DatabaseURL(c.database) }

// DatabaseURL is like URL but for the named database (e.g. "postgres" for
// administrative connections).
func (c *Cluster) DatabaseURL(database string) string {
	// The port selects the socket file name (.s.PGSQL.<port>); it is set
	// explicitly so PGPORT in the environment cannot redirect connections.
	// Spaces are escaped as %20: libpq-style URL parsers (pgx included)
	// do not decode '+'.
	q := "host=" + queryEscape(c.socketDir) + "&port=" + strconv.Itoa(c.port) + "&sslmode=disable"
	u := url.URL{Scheme: "postgres", User: url.User(c.role), Path: "/" + database, RawQuery: q}
	return u.String()
}

// PID returns the process id of the postmaster (for memory measurements;
// its server processes are its children).
func (c *Cluster) PID() int { return c.pid }

// SocketDir returns the directory holding the server's unix socket.
func (c *Cluster) SocketDir() string { return c.socketDir }

// Stop shuts the server down ("pg_ctl stop -m fast": active sessions are
// disconnected, committed data is flushed) and waits until it has exited or
// ctx is done. Stopping an already stopped cluster returns nil.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	secs := 60
	if d, ok := ctx.Deadline(); ok {
		secs = max(1, int(time.Until(d).Seconds()))
	}
	out, err := c.pgctl(ctx, "stop", "-D", dataSubdir, "-m", "fast", "-w", "-t", strconv.Itoa(secs))
	if err != nil {
		if _, perr := readPidFile(c.dataDir); !errors.Is(perr, fs.ErrNotExist) {
			return fmt.Errorf("pgembed: stop PostgreSQL in %s: %w: %s", c.dataDir, err, strings.TrimSpace(string(out)))
		}
		// No postmaster.pid: the server was already down.
	}
	// pg_ctl returns once postmaster.pid is gone, which the postmaster
	// removes just before it exits: wait for the exit itself, so a Start
	// right after never meets the old process.
	for c.pid > 0 && postmasterState(c.pid, c.dataDir) == procOurs {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgembed: PostgreSQL %d in %s has not exited: %w", c.pid, c.dataDir, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.stopped = true
	if c.tmpSocket {
		_ = os.Remove(c.socketDir) // only succeeds when empty, which it is after a clean shutdown
	}
	c.log.Info("stopped PostgreSQL", "dir", c.dataDir, "pid", c.pid)
	return nil
}

// stopQuietly is used on error paths after the server was started by us.
func (c *Cluster) stopQuietly() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		c.log.Warn("stopping PostgreSQL after failed start", "err", err)
	}
}

// initdb creates the cluster in a staging directory and renames it into
// place, so <Dir>/data only ever holds a complete cluster.
func (c *Cluster) initdb(ctx context.Context) error {
	staging := filepath.Join(c.dir, stagingSubdir)
	if err := os.RemoveAll(staging); err != nil { // leftover of an interrupted initdb
		return fmt.Errorf("remove stale %s: %w", staging, err)
	}
	args := []string{
		"-D", stagingSubdir, // relative to c.dir, see runAs.command
		"-U", c.role,
		"--auth-local=trust",
		"--auth-host=reject",
		"--encoding=UTF8",
		// C collation: byte order, fast, and immune to glibc collation
		// changes silently corrupting indexes across OS upgrades.
		"--locale=C",
		"--no-instructions",
	}
	if hasCUTF8() {
		args = append(args, "--lc-ctype=C.UTF-8") // Unicode-aware upper()/lower()/regex classes
	}
	cmd := c.run.command(ctx, c.dir, c.bin.path("initdb"), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(staging)
		return fmt.Errorf("initdb %s (PostgreSQL %d): %w\n%s", staging, c.bin.major, err, tail(out, 30))
	}
	hba := "# Managed by berth (core/pgembed).\n" +
		"# Unix-socket connections only (listen_addresses = ''); the socket directory\n" +
		"# is mode 0700, so only the cluster's OS user and root can reach it.\n" +
		"local all " + hbaQuote(c.role) + " trust\n"
	if err := c.run.writeFile(ctx, filepath.Join(staging, "pg_hba.conf"), []byte(hba)); err != nil {
		return err
	}
	if err := c.run.ensureInclude(ctx, filepath.Join(staging, "postgresql.conf")); err != nil {
		return err
	}
	if err := os.Rename(staging, c.dataDir); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	return nil
}

// tryReuse adopts a postmaster that is already running on the cluster and
// recovers from stale pid files. It reports whether a server was adopted.
func (c *Cluster) tryReuse(ctx context.Context, deadline time.Time) (bool, error) {
	pf, err := readPidFile(c.dataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch postmasterState(pf.pid, c.dataDir) {
	case procOurs:
		if pf.status == "stopping" {
			c.log.Info("PostgreSQL is shutting down; waiting to restart it", "pid", pf.pid)
			if err := waitGone(ctx, pf.pid, c.dataDir, deadline); err != nil {
				return false, err
			}
			return false, waitOrphans(ctx, c.dataDir, deadline)
		}
		if pf.socketDir == "" {
			return false, fmt.Errorf("PostgreSQL (pid %d) is already running on %s without a unix socket; stop it first", pf.pid, c.dataDir)
		}
		c.pid, c.port, c.socketDir = pf.pid, pf.port, pf.socketDir
		c.tmpSocket = !strings.HasPrefix(pf.socketDir, c.dir+string(filepath.Separator))
		if err := c.waitReady(ctx, deadline); err != nil {
			return false, err
		}
		c.log.Info("reusing running PostgreSQL", "dir", c.dataDir, "pid", c.pid, "socket_dir", c.socketDir)
		return true, nil
	case procOther:
		// The pid is alive but is not our postmaster: a zombie nobody reaped
		// (containers whose PID 1 does not reap) or, after a reboot, an
		// unrelated process that got the same pid. postgres itself would
		// refuse to start ("lock file already exists"), so remove the file.
		// This is safe even if orphaned backends of the dead postmaster
		// survive: postgres keys its SysV shared-memory interlock on the
		// data directory's inode and refuses to start while the old
		// segment is still attached.
		c.log.Warn("removing stale postmaster.pid", "dir", c.dataDir, "pid", pf.pid)
		if err := os.Remove(filepath.Join(c.dataDir, "postmaster.pid")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("remove stale postmaster.pid: %w", err)
		}
	default:
		// Process gone: pg_ctl and postgres handle the stale file themselves.
		c.log.Warn("PostgreSQL was not shut down cleanly; recovering", "dir", c.dataDir, "old_pid", pf.pid)
	}
	// Backends of a killed postmaster exit on their own shortly after it;
	// starting before they are gone fails with "pre-existing shared memory
	// block is still in use".
	return false, waitOrphans(ctx, c.dataDir, deadline)
}

// start launches the server with pg_ctl and waits until it accepts
// connections.
func (c *Cluster) start(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var err error
	c.socketDir, c.tmpSocket, err = chooseSocketDir(c.dir, c.dataDir, c.run)
	if err != nil {
		return err
	}
	if c.tmpSocket {
		c.log.Info("cluster path too long or unusual for a unix socket; using a /tmp socket directory", "socket_dir", c.socketDir)
	}
	if err := removeStaleSocketLock(c.socketDir, c.port, c.log); err != nil {
		return err
	}
	if err := c.writeConf(ctx); err != nil {
		return err
	}
	if err := c.run.ensureInclude(ctx, filepath.Join(c.dataDir, "postgresql.conf")); err != nil {
		return err
	}
	rotateLog(filepath.Join(c.dir, logFileName))

	secs := strconv.Itoa(max(1, int(timeout.Round(time.Second).Seconds())))
	t0 := time.Now()
	out, err := c.pgctl(ctx, "start", "-w", "-t", secs, "-D", dataSubdir, "-l", logFileName)
	if err != nil {
		return c.startErr(fmt.Errorf("pg_ctl start: %w: %s", err, strings.TrimSpace(string(out))))
	}
	pf, err := readPidFile(c.dataDir)
	if err != nil {
		c.stopQuietly()
		return c.startErr(fmt.Errorf("server started but its pid file is unreadable: %w", err))
	}
	c.pid = pf.pid
	if err := c.waitReady(ctx, deadline); err != nil {
		c.stopQuietly()
		return err
	}
	c.log.Info("started PostgreSQL", "dir", c.dataDir, "pid", c.pid, "socket_dir", c.socketDir,
		"version", c.bin.major, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// startErr decorates a start failure with the tail of postgres.log.
func (c *Cluster) startErr(err error) error {
	b, rerr := readTail(filepath.Join(c.dir, logFileName), 8<<10)
	if rerr != nil || len(strings.TrimSpace(string(b))) == 0 {
		return fmt.Errorf("start PostgreSQL in %s: %w", c.dataDir, err)
	}
	return fmt.Errorf("start PostgreSQL in %s: %w\n--- tail of %s ---\n%s", c.dataDir, err, filepath.Join(c.dir, logFileName), tail(b, 20))
}

// waitReady connects for real (pg_ctl -w only watches postmaster.pid).
func (c *Cluster) waitReady(ctx context.Context, deadline time.Time) error {
	cfg, err := pgx.ParseConfig(c.DatabaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("parse connection URL: %w", err)
	}
	var lastErr error
	for {
		attempt, cancel := context.WithTimeout(ctx, 3*time.Second)
		conn, err := pgx.ConnectConfig(attempt, cfg)
		if err == nil {
			err = conn.Ping(attempt)
			conn.Close(attempt)
		}
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return c.startErr(fmt.Errorf("waiting for server: %w (last error: %v)", ctx.Err(), lastErr))
		}
		if postmasterState(c.pid, c.dataDir) != procOurs {
			return c.startErr(fmt.Errorf("server (pid %d) exited while waiting for it: %w", c.pid, lastErr))
		}
		if time.Now().After(deadline) {
			return c.startErr(fmt.Errorf("server not accepting connections after start timeout: %w", lastErr))
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.DatabaseURL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to create database %q: %w", c.database, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.database).Scan(&exists); err != nil {
		return fmt.Errorf("check database %q: %w", c.database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: lost a race, fine
		err = nil
	}
	if err != nil {
		return fmt.Errorf("create database %q: %w", c.database, err)
	}
	c.log.Info("created database", "database", c.database)
	return nil
}

// pgctl runs pg_ctl in the cluster directory as the cluster's OS user.
//
// pg_ctl start launches the server through /bin/sh, interpolating the data
// directory and log file paths into the command line. Passing them relative
// to the working directory (which exec sets without any shell) keeps
// user-controlled paths out of that shell; the only path left in it is the
// binary directory, which findBinaries validates.
func (c *Cluster) pgctl(ctx context.Context, args ...string) ([]byte, error) {
	cmd := c.run.command(ctx, c.dir, c.bin.path("pg_ctl"), args...)
	return cmd.CombinedOutput()
}

// writeConf writes berth.conf, the berth-managed settings file included
// from postgresql.conf.
func (c *Cluster) writeConf(ctx context.Context) error {
	var b strings.Builder
	b.WriteString("# Managed by berth (core/pgembed); rewritten on every start.\n")
	b.WriteString("# Override with ALTER SYSTEM (postgresql.auto.conf takes precedence).\n\n")
	set := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
	// Connectivity: unix socket only, no TCP at all.
	set("listen_addresses", "''")
	set("port", strconv.Itoa(c.port))
	set("unix_socket_directories", confQuote(c.socketDir))
	set("unix_socket_permissions", "0700")
	// Small footprint: this is a control-plane database.
	set("max_connections", "40")
	set("shared_buffers", "16MB")
	set("huge_pages", "off")
	set("work_mem", "4MB")
	set("maintenance_work_mem", "32MB")
	set("effective_cache_size", "256MB")
	set("max_worker_processes", "4")
	set("max_parallel_workers", "2")
	set("max_parallel_workers_per_gather", "0")
	set("max_parallel_maintenance_workers", "0")
	set("autovacuum_max_workers", "2")
	set("max_wal_size", "256MB")
	set("min_wal_size", "32MB")
	// No logical replication: also saves the launcher process.
	set("max_logical_replication_workers", "0")
	set("max_wal_senders", "2")
	set("max_replication_slots", "2")
	set("jit", "off")
	// Durability stays on.
	set("fsync", "on")
	set("synchronous_commit", "on")
	set("full_page_writes", "on")
	// Logging to stderr, which pg_ctl -l sends to <Dir>/postgres.log.
	set("logging_collector", "off")
	set("log_destination", "'stderr'")
	set("lc_messages", "'C'")
	return c.run.writeFile(ctx, filepath.Join(c.dataDir, confFileName), []byte(b.String()))
}

// ensureInclude makes postgresql.conf include berth.conf. A hard include
// (not include_if_exists) so a missing berth.conf can never silently fall
// back to the default listen_addresses = 'localhost'.
func (r runAs) ensureInclude(ctx context.Context, confPath string) error {
	b, err := os.ReadFile(confPath)
	if err != nil {
		return fmt.Errorf("read %s: %w", confPath, err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.TrimSpace(line) == includeLine {
			return nil
		}
	}
	b = append(b, "\n# Added by berth (core/pgembed): berth-managed settings.\n"+includeLine+"\n"...)
	return r.writeFile(ctx, confPath, b)
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// confQuote quotes a postgresql.conf string value.
func confQuote(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `''`)
	return "'" + s + "'"
}

// hbaQuote quotes a pg_hba.conf role name.
func hbaQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func hasCUTF8() bool {
	for _, p := range []string{"/usr/lib/locale/C.utf8", "/usr/lib/locale/C.UTF-8"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func rotateLog(path string) {
	if st, err := os.Stat(path); err == nil && st.Size() > logRotateSize {
		_ = os.Rename(path, path+".1")
	}
}

// lockDir takes an exclusive flock on path for the duration of Start, so
// two berth processes starting on the same Dir do not race.
func lockDir(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ctx.Err() != nil {
			_ = f.Close()
			return nil, fmt.Errorf("waiting for lock %s (another berth starting the same cluster?): %w", path, ctx.Err())
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(0, st.Size()-n)
	b := make([]byte, st.Size()-off)
	_, err = f.ReadAt(b, off)
	return b, err
}

// tail returns the last n lines of b.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
