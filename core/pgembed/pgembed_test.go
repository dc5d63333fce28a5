package pgembed

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startT starts a cluster and stops it when the test ends.
func startT(t *testing.T, opts Options) *Cluster {
	t.Helper()
	c, err := Start(testCtx(t), opts)
	if err != nil {
		t.Fatalf("Start(%s): %v", opts.Dir, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryString(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	if err := conn.QueryRow(testCtx(t), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestStartStop(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pg")
	c := startT(t, Options{Dir: dir})

	conn := connect(t, c.URL())
	if got := queryString(t, conn, "SELECT current_database()"); got != "berth" {
		t.Errorf("current_database = %q, want berth", got)
	}
	if got, want := c.SocketDir(), filepath.Join(dir, "run"); got != want {
		t.Errorf("SocketDir = %q, want %q", got, want)
	}
	if fi, err := os.Stat(c.SocketDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode = %v, %v; want 0700", fi.Mode(), err)
	}
	if postmasterState(c.PID(), c.dataDir) != procOurs {
		t.Fatalf("PID %d is not the running postmaster", c.PID())
	}
	conn.Close(context.Background())

	if err := c.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if st := postmasterState(c.PID(), c.dataDir); st == procOurs {
		t.Errorf("postmaster %d still running after Stop", c.PID())
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid still present after Stop: %v", err)
	}
	if err := c.Stop(testCtx(t)); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if conn, err := pgx.Connect(testCtx(t), c.URL()); err == nil {
		conn.Close(context.Background())
		t.Errorf("connect after Stop succeeded")
	}
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{Dir: dir, Database: "app"}

	c1 := startT(t, opts)
	conn := connect(t, c1.URL())
	if _, err := conn.Exec(testCtx(t), "CREATE TABLE kv (k text PRIMARY KEY, v text); INSERT INTO kv VALUES ('answer', '42')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	if err := c1.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	c2 := startT(t, opts)
	if c2.PID() == c1.PID() {
		t.Errorf("restart kept the old pid %d", c1.PID())
	}
	conn = connect(t, c2.URL())
	if got := queryString(t, conn, "SELECT v FROM kv WHERE k = 'answer'"); got != "42" {
		t.Errorf("after restart v = %q, want 42", got)
	}
}

func TestReuseRunningCluster(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1 := startT(t, Options{Dir: dir})
	conn := connect(t, c1.URL())
	if _, err := conn.Exec(testCtx(t), "CREATE TABLE marker (id int)"); err != nil {
		t.Fatal(err)
	}

	// As if berth crashed and restarted while postgres kept running.
	c2 := startT(t, Options{Dir: dir})
	if c2.PID() != c1.PID() {
		t.Fatalf("second Start pid = %d, want reused %d", c2.PID(), c1.PID())
	}
	if c2.URL() != c1.URL() {
		t.Errorf("URL = %q, want %q", c2.URL(), c1.URL())
	}
	conn2 := connect(t, c2.URL())
	if got := queryString(t, conn2, "SELECT to_regclass('marker')::text"); got != "marker" {
		t.Errorf("reused cluster lacks table: %q", got)
	}
	conn.Close(context.Background())
	conn2.Close(context.Background())
	if err := c2.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if postmasterState(c1.PID(), c1.dataDir) == procOurs {
		t.Errorf("server still running after Stop of the reusing Cluster")
	}
}

func TestStalePidFileRecovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// stalePid returns the pid to leave in postmaster.pid after the
		// postmaster was killed (0: leave the original).
		stalePid func(t *testing.T) int
	}{
		{"postmaster killed", func(*testing.T) int { return 0 }},
		{"pid reused by another process", func(t *testing.T) int {
			cmd := exec.Command("sleep", "300")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return cmd.Process.Pid
		}},
		{"pid is an unreaped zombie", func(t *testing.T) int {
			cmd := exec.Command("true")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Wait() })
			for !isZombie(cmd.Process.Pid) {
				time.Sleep(5 * time.Millisecond)
			}
			return cmd.Process.Pid
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			c1, err := Start(testCtx(t), Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			conn := connect(t, c1.URL())
			if _, err := conn.Exec(testCtx(t), "CREATE TABLE t (v int); INSERT INTO t VALUES (7)"); err != nil {
				t.Fatal(err)
			}
			conn.Close(context.Background())

			if err := syscall.Kill(c1.PID(), syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9 %d: %v", c1.PID(), err)
			}
			for postmasterState(c1.PID(), c1.dataDir) == procOurs {
				time.Sleep(5 * time.Millisecond)
			}
			pidPath := filepath.Join(c1.dataDir, "postmaster.pid")
			if _, err := os.Stat(pidPath); err != nil {
				t.Fatalf("expected a stale postmaster.pid: %v", err)
			}
			if pid := tt.stalePid(t); pid != 0 {
				b, err := os.ReadFile(pidPath)
				if err != nil {
					t.Fatal(err)
				}
				_, rest, _ := strings.Cut(string(b), "\n")
				if err := os.WriteFile(pidPath, []byte(strconv.Itoa(pid)+"\n"+rest), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			c2 := startT(t, Options{Dir: dir})
			if c2.PID() == c1.PID() {
				t.Fatalf("Start reused the dead postmaster pid %d", c1.PID())
			}
			conn = connect(t, c2.URL())
			if got := queryString(t, conn, "SELECT v::text FROM t"); got != "7" {
				t.Errorf("committed row after crash recovery = %q, want 7", got)
			}
		})
	}
}

func TestSettingsNoTCP(t *testing.T) {
	t.Parallel()
	c := startT(t, Options{Dir: t.TempDir()})
	conn := connect(t, c.URL())
	for _, tt := range []struct{ setting, want string }{
		{"listen_addresses", ""},
		{"unix_socket_directories", c.SocketDir()},
		{"unix_socket_permissions", "0700"},
		{"shared_buffers", "16MB"},
		{"max_connections", "40"},
		{"fsync", "on"},
		{"jit", "off"},
		{"server_encoding", "UTF8"},
		{"lc_collate", "C"},
	} {
		if got := queryString(t, conn, "SHOW "+tt.setting); got != tt.want {
			t.Errorf("SHOW %s = %q, want %q", tt.setting, got, tt.want)
		}
	}
	if addr := queryString(t, conn, "SELECT coalesce(inet_server_addr()::text, 'unix')"); addr != "unix" {
		t.Errorf("connection is over %s, want unix socket", addr)
	}
	// And from the kernel's view: no TCP socket of the postmaster listens.
	if n := tcpListeners(t, c.PID()); n != 0 {
		t.Errorf("postmaster has %d listening TCP sockets, want 0", n)
	}
}

// tcpListeners counts listening TCP sockets held open by pid.
func tcpListeners(t *testing.T, pid int) int {
	t.Helper()
	listening := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 9 && fields[3] == "0A" { // TCP_LISTEN
				listening["socket:["+fields[9]+"]"] = true
			}
		}
		fh.Close()
	}
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("list fds of %d: %v", pid, err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + fd.Name()); err == nil && listening[l] {
			n++
		}
	}
	return n
}

func TestDirPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sub       string
		tmpSocket bool
	}{
		{"spaces", "with space/pg", false},
		{"long path", strings.Repeat("a", 60) + "/" + strings.Repeat("b", 60) + "/cluster", true},
		// pg_ctl runs the server through /bin/sh: nothing here may be interpreted.
		{"shell metacharacters", `we'ird $(touch pwned) "q",x;y`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dir := filepath.Join(base, tt.sub)
			c := startT(t, Options{Dir: dir})
			if got := strings.HasPrefix(c.SocketDir(), "/tmp/berth-pg-"); got != tt.tmpSocket {
				t.Errorf("SocketDir = %q, /tmp fallback = %v, want %v", c.SocketDir(), got, tt.tmpSocket)
			}
			if l := len(c.SocketDir() + "/.s.PGSQL.5432"); l > maxSocketPath {
				t.Errorf("socket path is %d bytes", l)
			}
			conn := connect(t, c.URL())
			if got := queryString(t, conn, "SHOW unix_socket_directories"); got != c.SocketDir() {
				t.Errorf("unix_socket_directories = %q, want %q", got, c.SocketDir())
			}
			conn.Close(context.Background())
			if err := c.Stop(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(c.SocketDir()); tt.tmpSocket && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("/tmp socket dir not removed by Stop: %v", err)
			}
			matches, _ := filepath.Glob(filepath.Join(base, "*", "pwned"))
			if m2, _ := filepath.Glob(filepath.Join(dir, "pwned")); len(matches)+len(m2) > 0 {
				t.Errorf("shell command executed: %v %v", matches, m2)
			}
		})
	}
}

func TestMissingBinaries(t *testing.T) {
	t.Parallel()
	_, err := Start(testCtx(t), Options{Dir: t.TempDir(), BinDir: t.TempDir()})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	if !strings.Contains(err.Error(), `install the "postgresql" package`) {
		t.Errorf("error does not tell how to fix it: %v", err)
	}
}

func TestBinDirExplicit(t *testing.T) {
	t.Parallel()
	dir, major, err := FindBinDir(testCtx(t))
	if err != nil {
		t.Fatalf("FindBinDir: %v", err)
	}
	c := startT(t, Options{Dir: t.TempDir(), BinDir: dir})
	conn := connect(t, c.URL())
	if got := queryString(t, conn, "SELECT current_setting('server_version_num')::int / 10000"); got != strconv.Itoa(major) {
		t.Errorf("server major = %s, want %d", got, major)
	}
}

// TestFootprint reports start-up times and idle memory. It is not
// parallel, so no other cluster runs while it measures.
func TestFootprint(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	c, err := Start(testCtx(t), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	first := time.Since(t0)
	if err := c.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	c = startT(t, Options{Dir: dir})
	warm := time.Since(t0)
	t0 = time.Now()
	startT(t, Options{Dir: dir}) // reuse of the running server
	reuse := time.Since(t0)

	time.Sleep(2 * time.Second) // let start-up work settle
	rss, pss, procs := treeRSS(t, c.PID())
	t.Logf("first Start (initdb+start): %v; warm Start: %v; Start reusing running server: %v", first.Round(time.Millisecond), warm.Round(time.Millisecond), reuse.Round(time.Millisecond))
	t.Logf("idle memory of postmaster + children (%d processes): sum VmRSS %.1f MiB, sum Pss %.1f MiB", procs, float64(rss)/1024, float64(pss)/1024)
	if rss > 256*1024 {
		t.Errorf("idle RSS %d kB is far above the expected footprint", rss)
	}
}

// treeRSS sums VmRSS and Pss (kB) of pid and its child processes. The RSS
// sum counts shared memory and binary pages once per process; Pss splits
// them among the sharers, so it is the better estimate of real cost.
func treeRSS(t *testing.T, pid int) (rss, pss int64, procs int) {
	t.Helper()
	pids := []int{pid}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			pids = append(pids, p)
		}
	}
	field := func(file, name string) (int64, bool) {
		b, err := os.ReadFile(file)
		if err != nil {
			return 0, false
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, name+":"); ok {
				n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				return n, err == nil
			}
		}
		return 0, false
	}
	for _, p := range pids {
		dir := "/proc/" + strconv.Itoa(p)
		if n, ok := field(dir+"/status", "VmRSS"); ok {
			rss += n
			procs++
		}
		if n, ok := field(dir+"/smaps_rollup", "Pss"); ok {
			pss += n
		}
	}
	return rss, pss, procs
}
