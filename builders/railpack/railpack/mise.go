package railpack

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/railwayapp/railpack/core/mise"
)

// DefaultMiseSource is the npm tarball of the mise release Railpack pins.
var DefaultMiseSource = "https://registry.npmjs.org/@jdxcode/mise-linux-x64/-/mise-linux-x64-" + strings.TrimSpace(mise.Version) + ".tgz"

// misePath is where Railpack looks for its mise binary before it would
// download one from GitHub (core/mise: InstallDir, mise-<version>).
func misePath() string {
	return filepath.Join(mise.InstallDir, "mise-"+strings.TrimSpace(mise.Version))
}

var miseMu sync.Mutex

// ensureMise puts the mise binary Railpack plans with in place, from
// source (an http(s) URL or a local path of the npm tarball or of the
// binary), unless it is there already.
func ensureMise(ctx context.Context, source string, log func(string, ...any)) error {
	miseMu.Lock()
	defer miseMu.Unlock()
	dst := misePath()
	// Railpack's path lies under /tmp, which every local user can write:
	// the directories and the binary must be this process's own and
	// writable by no one else, or another user could plant the mise that
	// the planner runs.
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("mise: %w", err)
	}
	for _, dir := range []string{filepath.Dir(filepath.Dir(dst)), filepath.Dir(dst)} {
		if err := ownedOnly(dir, true); err != nil {
			return fmt.Errorf("mise: %w", err)
		}
	}
	if st, err := os.Lstat(dst); err == nil {
		if err := ownedOnly(dst, false); err != nil {
			return fmt.Errorf("mise: %w", err)
		}
		if st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return nil
		}
	}
	if source == "" {
		source = DefaultMiseSource
	}
	log("fetching mise %s from %s", strings.TrimSpace(mise.Version), source)
	var r io.ReadCloser
	if strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
		if err != nil {
			return fmt.Errorf("mise source: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("fetching mise: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return fmt.Errorf("fetching mise from %s: %s", source, resp.Status)
		}
		r = resp.Body
	} else {
		f, err := os.Open(strings.TrimPrefix(source, "file://"))
		if err != nil {
			return fmt.Errorf("mise source: %w", err)
		}
		r = f
	}
	defer r.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".mise-*")
	if err != nil {
		return fmt.Errorf("mise: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := extractMise(r, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("mise from %s: %w", source, err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("mise: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mise: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("mise: %w", err)
	}
	return nil
}

// extractMise copies the mise binary from r, a gzipped npm tarball holding
// package/bin/mise, or the binary itself, to w.
func extractMise(r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		_, err := io.Copy(w, br)
		return err
	}
	gz, err := gzip.NewReader(br)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return errors.New("no package/bin/mise in the tarball")
		}
		if err != nil {
			return err
		}
		if h.Name == "package/bin/mise" && h.Typeflag == tar.TypeReg {
			_, err := io.Copy(w, tr)
			return err
		}
	}
}

// miseVersion is the mise version Railpack pins.
func miseVersion() string { return strings.TrimSpace(mise.Version) }

// ownedOnly checks that path (a directory when dir) is not a link, belongs
// to this process's user and is writable by no one else.
func ownedOnly(path string, dir bool) error {
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case st.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link", path)
	case dir && !st.IsDir(), !dir && !st.Mode().IsRegular():
		return fmt.Errorf("%s is not a %s", path, map[bool]string{true: "directory", false: "file"}[dir])
	case ok && int(sys.Uid) != os.Getuid():
		return fmt.Errorf("%s belongs to another user (uid %d)", path, sys.Uid)
	case st.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by other users", path)
	}
	return nil
}
