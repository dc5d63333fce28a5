package pgembed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/core/atomicfile"
)

// runAs is the OS identity the PostgreSQL processes run as.
type runAs struct {
	name   string
	home   string
	uid    int
	gid    int
	groups []int // all groups of the user, gid included
	// cred is set when berth runs as root: PostgreSQL refuses to run as
	// root, so its programs are started as the "postgres" user instead.
	cred *syscall.Credential
}

func currentRunAs() (runAs, error) {
	if os.Geteuid() != 0 {
		r := runAs{uid: os.Getuid(), gid: os.Getgid(), name: os.Getenv("USER"), home: os.Getenv("HOME")}
		if u, err := user.Current(); err == nil {
			r.name, r.home = u.Username, u.HomeDir
		}
		if r.name == "" {
			return runAs{}, fmt.Errorf("cannot determine the name of OS user %d (needed as the PostgreSQL superuser name)", r.uid)
		}
		gs, _ := os.Getgroups()
		r.groups = append(gs, r.gid)
		return r, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return runAs{}, fmt.Errorf("%w (%v)", ErrNoPostgresUser, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return runAs{}, fmt.Errorf("parse ids of OS user postgres: %w", err)
	}
	if uid == 0 {
		return runAs{}, fmt.Errorf("%w (user postgres has uid 0)", ErrNoPostgresUser)
	}
	r := runAs{name: u.Username, home: u.HomeDir, uid: uid, gid: gid, groups: []int{gid}}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g != gid {
				r.groups = append(r.groups, g)
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
	}
	r.cred = cred
	return r, nil
}

func (r runAs) isRoot() bool { return r.cred != nil }

// command builds an exec.Cmd (argv, never a shell) running as r in dir.
func (r runAs) command(ctx context.Context, dir, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = r.env()
	// Own process group: a Ctrl-C on berth's terminal must not reach
	// PostgreSQL directly; berth stops it itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: r.cred}
	// pg_ctl's server inherits no pipes of ours (it redirects to the log),
	// but never hang on a stray descriptor.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// env is berth's environment minus anything that would change how the
// PostgreSQL programs behave (PG* variables such as PGPORT or PGOPTIONS,
// locale variables), with the identity variables of the run-as user.
func (r runAs) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "PG"), strings.HasPrefix(k, "LC_"),
			k == "LANG", k == "LANGUAGE", k == "HOME", k == "USER", k == "LOGNAME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LANG=C", "USER="+r.name, "LOGNAME="+r.name)
	if r.home != "" {
		env = append(env, "HOME="+r.home)
	}
	return env
}

// chown gives path to the run-as user when berth runs as root.
func (r runAs) chown(path string) error {
	if !r.isRoot() {
		return nil
	}
	if err := os.Lchown(path, r.uid, r.gid); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, r.name, err)
	}
	return nil
}

// writeFile replaces path atomically with a 0600 file owned by the run-as
// user (a crash never leaves a partial configuration file).
func (r runAs) writeFile(ctx context.Context, path string, data []byte) error {
	var opts []atomicfile.Option
	if r.isRoot() {
		opts = append(opts, atomicfile.Owner(r.uid, r.gid))
	}
	return atomicfile.WriteFile(ctx, path, data, 0o600, opts...)
}

// canTraverse reports whether r may search (x permission) the directory
// described by st, following the kernel's owner/group/other rule.
func (r runAs) canTraverse(st *syscall.Stat_t) bool {
	switch {
	case int(st.Uid) == r.uid:
		return st.Mode&0o100 != 0
	case slices.Contains(r.groups, int(st.Gid)):
		return st.Mode&0o010 != 0
	default:
		return st.Mode&0o001 != 0
	}
}

// prepareClusterDir creates dir and, when berth runs as root, hands it to
// the postgres user.
func prepareClusterDir(dir string, r runAs, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !r.isRoot() {
		return nil
	}
	// The server runs as "postgres" but berth is root: every ancestor of
	// the cluster directory must be searchable by postgres or initdb,
	// pg_ctl and the server cannot even reach their files (chdir fails
	// with EACCES). Root-owned directories without o+x are common here:
	// os.MkdirTemp and os.MkdirAll(…, 0700) create them, and so is /root.
	// Adding o+x only allows traversal by name, not listing, so it exposes
	// no directory contents. Directories owned by other users are left
	// alone and reported instead.
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		if !r.canTraverse(st) {
			if int(st.Uid) != os.Geteuid() {
				return fmt.Errorf("directory %s (owned by uid %d) is not searchable by OS user %s; run chmod o+x %s", p, st.Uid, r.name, p)
			}
			mode := fi.Mode().Perm() | 0o001
			if err := os.Chmod(p, mode|fi.Mode()&(fs.ModeSticky|fs.ModeSetgid|fs.ModeSetuid)); err != nil {
				return fmt.Errorf("make %s searchable by %s: %w", p, r.name, err)
			}
			log.Info("made directory searchable for the postgres user (chmod o+x)", "dir", p)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) == r.uid {
		return nil
	}
	// Freshly created (or created by root earlier): hand the whole tree over.
	return filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return r.chown(path)
	})
}

// chooseSocketDir returns <dir>/run when a socket path in it fits the
// 107-byte limit and is safe to put in unix_socket_directories and a
// connection URL; otherwise a short private directory under /tmp.
func chooseSocketDir(dir, dataDir string, r runAs) (string, bool, error) {
	inDir := filepath.Join(dir, socketSubdir)
	if socketDirUsable(inDir) {
		if err := os.Mkdir(inDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", false, fmt.Errorf("create socket dir: %w", err)
		}
		if err := r.chown(inDir); err != nil {
			return "", false, err
		}
		if err := os.Chmod(inDir, 0o700); err != nil {
			return "", false, fmt.Errorf("chmod socket dir: %w", err)
		}
		return inDir, false, nil
	}
	// Stable name per cluster, so restarts do not litter /tmp.
	sum := sha256.Sum256([]byte(dataDir))
	name := "/tmp/berth-pg-" + hex.EncodeToString(sum[:6])
	err := os.Mkdir(name, 0o700)
	if err == nil {
		if err := r.chown(name); err != nil {
			_ = os.Remove(name)
			return "", false, err
		}
		return name, true, nil
	}
	if errors.Is(err, fs.ErrExist) && privateDir(name, r.uid) {
		return name, true, nil
	}
	// Taken by someone else (or not a private directory): /tmp is shared,
	// so never trust it; make a fresh one instead.
	name, err = os.MkdirTemp("/tmp", "berth-pg-")
	if err != nil {
		return "", false, fmt.Errorf("create socket dir in /tmp: %w", err)
	}
	if err := r.chown(name); err != nil {
		_ = os.Remove(name)
		return "", false, err
	}
	return name, true, nil
}

func socketDirUsable(d string) bool {
	if len(filepath.Join(d, ".s.PGSQL."+strconv.Itoa(defaultPort))) > maxSocketPath {
		return false
	}
	// ',' and '"' have meaning in unix_socket_directories, ',' also
	// separates hosts in a connection string.
	return !strings.ContainsFunc(d, func(r rune) bool { return r == ',' || r == '"' || r < 0x20 || r == 0x7f })
}

// privateDir reports whether p is a real directory (not a symlink) owned by
// uid with no group/other permissions.
func privateDir(p string, uid int) bool {
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return false
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid) == uid
}
