package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidFile is the content of postmaster.pid (PostgreSQL 10+ layout).
type pidFile struct {
	pid       int
	port      int
	socketDir string // first of unix_socket_directories
	status    string // "starting", "ready", "stopping", "standby"
}

func readPidFile(dataDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	line := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	pf := pidFile{socketDir: line(4), status: line(7)}
	pf.pid, err = strconv.Atoi(line(0))
	if err != nil || pf.pid <= 0 {
		return pidFile{}, fmt.Errorf("malformed postmaster.pid in %s", dataDir)
	}
	if pf.port, err = strconv.Atoi(line(3)); err != nil {
		pf.port = defaultPort
	}
	return pf, nil
}

type procState int

const (
	procGone  procState = iota // no such process
	procOurs                   // a live postmaster of this data directory
	procOther                  // pid exists but is a zombie or another program
)

// postmasterState classifies pid relative to the cluster in dataDir. The
// postmaster chdir()s into its data directory, so /proc/<pid>/cwd
// identifies it even after pid reuse.
func postmasterState(pid int, dataDir string) procState {
	if pid <= 0 {
		return procGone
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return procGone
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return procOurs // no procfs: cannot tell more, trust kill(0)
	}
	if isZombie(pid) {
		return procOther
	}
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		if _, serr := os.Stat("/proc/" + strconv.Itoa(pid)); serr != nil {
			return procGone // exited meanwhile
		}
		return procOther // not ours to inspect, so not our postmaster
	}
	if real, err := filepath.EvalSymlinks(dataDir); err == nil && cwd == real {
		return procOurs
	}
	return procOther
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": comm may contain spaces and parens, state follows the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z' || b[i+2] == 'X'
}

// waitGone waits until pid is no longer our postmaster.
func waitGone(ctx context.Context, pid int, dataDir string, deadline time.Time) error {
	for postmasterState(pid, dataDir) == procOurs {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL (pid %d) on %s is still shutting down", pid, dataDir)
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	return nil
}

// waitOrphans waits until no live process has dataDir as its working
// directory (leftover backends of a crashed postmaster). It gives up
// silently at the deadline; postgres then reports the problem itself.
func waitOrphans(ctx context.Context, dataDir string, deadline time.Time) error {
	real, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		return nil
	}
	for {
		pids := processesIn(real)
		if len(pids) == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for old PostgreSQL processes %v to exit: %w", pids, ctx.Err())
		}
		if time.Now().After(deadline) {
			return nil
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// processesIn lists live (non-zombie) processes whose cwd is dir.
func processesIn(dir string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd"); err == nil && cwd == dir && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeStaleSocketLock removes the socket lock file (.s.PGSQL.<port>.lock)
// when the pid in it is a zombie or a program other than postgres. postgres
// copes with lock files of vanished processes itself, but like
// postmaster.pid it refuses to start while kill(pid, 0) succeeds.
func removeStaleSocketLock(socketDir string, port int, log *slog.Logger) error {
	path := filepath.Join(socketDir, ".s.PGSQL."+strconv.Itoa(port)+".lock")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	if !isZombie(pid) && isPostgres(pid) {
		return nil // a live server owns this socket; postgres will report it
	}
	log.Warn("removing stale socket lock file", "path", path, "pid", pid)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket lock: %w", err)
	}
	return nil
}

// isPostgres reports whether pid runs a postgres executable (true when
// procfs cannot tell).
func isPostgres(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return true
	}
	comm := strings.TrimSpace(string(b))
	return comm == "postgres" || comm == "postmaster"
}
