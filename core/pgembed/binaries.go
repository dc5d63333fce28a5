package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// binaries is a directory holding initdb, pg_ctl and postgres.
type binaries struct {
	dir   string
	major int
}

func (b binaries) path(name string) string { return filepath.Join(b.dir, name) }

var requiredPrograms = []string{"initdb", "pg_ctl", "postgres"}

// FindBinDir returns the directory of the PostgreSQL server binaries Start
// would use when Options.BinDir is empty, and their major version: the
// highest version under /usr/lib/postgresql/<major>/bin (Debian/Ubuntu) or
// /usr/pgsql-<major>/bin (RHEL/PGDG), else the directory of pg_ctl on PATH.
// (For an existing cluster Start prefers the installed version matching the
// cluster's.) The error wraps ErrNoBinaries when none is found.
func FindBinDir(ctx context.Context) (dir string, major int, err error) {
	b, err := findBinaries(ctx, "", 0)
	return b.dir, b.major, err
}

// findBinaries picks the binaries: explicit binDir, else the installed
// version matching an existing cluster (clusterMajor > 0), else the newest.
func findBinaries(ctx context.Context, binDir string, clusterMajor int) (binaries, error) {
	if binDir != "" {
		if err := checkPrograms(binDir); err != nil {
			return binaries{}, fmt.Errorf("BinDir %s: %w", binDir, err)
		}
		major, err := programMajor(ctx, binDir)
		if err != nil {
			return binaries{}, err
		}
		b := binaries{dir: binDir, major: major}
		return b, b.validate(clusterMajor)
	}
	cands := candidates(ctx)
	if len(cands) == 0 {
		return binaries{}, ErrNoBinaries
	}
	if clusterMajor > 0 {
		for _, c := range cands {
			if c.major == clusterMajor {
				return c, c.validate(clusterMajor)
			}
		}
		var have []string
		for _, c := range cands {
			have = append(have, strconv.Itoa(c.major))
		}
		return binaries{}, fmt.Errorf("cluster was created by PostgreSQL %d but only PostgreSQL %s is installed; "+
			"install postgresql-%d (or upgrade the cluster with pg_upgrade): %w", clusterMajor, strings.Join(have, ", "), clusterMajor, ErrNoBinaries)
	}
	return cands[0], cands[0].validate(0)
}

// candidates lists usable binary directories, newest major first.
func candidates(ctx context.Context) []binaries {
	var out []binaries
	add := func(dir string, major int) {
		if major < minMajor || checkPrograms(dir) != nil {
			return
		}
		if slices.ContainsFunc(out, func(b binaries) bool { return b.major == major }) {
			return
		}
		out = append(out, binaries{dir: dir, major: major})
	}
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		matches, _ := filepath.Glob(pattern)
		for _, m := range matches {
			v := strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "pgsql-")
			if major, err := strconv.Atoi(v); err == nil {
				add(m, major)
			}
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dir := filepath.Dir(real)
			if major, err := programMajor(ctx, dir); err == nil {
				add(dir, major)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b binaries) int { return b.major - a.major })
	return out
}

func checkPrograms(dir string) error {
	for _, p := range requiredPrograms {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%s missing: %w", p, ErrNoBinaries)
			}
			return err
		}
		if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not executable: %w", filepath.Join(dir, p), ErrNoBinaries)
		}
	}
	return nil
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// programMajor runs "postgres --version" (allowed as root) and returns the
// major version.
func programMajor(ctx context.Context, dir string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("run %s --version: %w", filepath.Join(dir, "postgres"), err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("unrecognised version output of %s: %q", filepath.Join(dir, "postgres"), strings.TrimSpace(string(out)))
	}
	return strconv.Atoi(string(m[1]))
}

// validate checks the version and that the (symlink-resolved) directory can
// be embedded in the /bin/sh command lines that pg_ctl and initdb build
// around it inside double quotes.
func (b binaries) validate(clusterMajor int) error {
	if b.major < minMajor {
		return fmt.Errorf("PostgreSQL %d in %s is too old; version %d or newer is required", b.major, b.dir, minMajor)
	}
	if clusterMajor > 0 && b.major != clusterMajor {
		return fmt.Errorf("cluster was created by PostgreSQL %d but %s holds PostgreSQL %d; use matching binaries or pg_upgrade the cluster", clusterMajor, b.dir, b.major)
	}
	real, err := filepath.EvalSymlinks(b.path("pg_ctl"))
	if err != nil {
		return err
	}
	for _, d := range []string{b.dir, filepath.Dir(real)} {
		if strings.ContainsAny(d, "\"\\$`\n") {
			return fmt.Errorf("PostgreSQL binary directory %q contains characters pg_ctl cannot pass safely to /bin/sh", d)
		}
	}
	return nil
}

// readClusterMajor returns the major version in <dataDir>/PG_VERSION, or 0
// when dataDir holds no cluster.
func readClusterMajor(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dataDir); serr == nil {
			return 0, fmt.Errorf("%s exists but is not a PostgreSQL cluster (no PG_VERSION); move it away", dataDir)
		}
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read cluster version: %w", err)
	}
	major, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("unsupported cluster version %q in %s", strings.TrimSpace(string(b)), dataDir)
	}
	return major, nil
}
