// Package atomicfile writes files so that readers, and the file system after
// a crash, see either the old content or the new one, never a mix or a
// partial file: the data goes to a temporary file in the same directory
// (same file system), which is synced, then renamed over the target (or
// linked to it, for Create), and the directory is synced so the rename
// itself survives a crash. A failed write leaves the previous file as it
// was and removes its temporary file.
//
// Temporary files are named ".<name>.<random>.tmp", so watchers that read
// only some extensions (Traefik's file provider reads .yaml, .yml and .toml)
// ignore them.
package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Option changes how a file is written.
type Option func(*options)

type options struct {
	stageDir string
	chown    bool
	uid, gid int
}

// StageIn stages the temporary file in dir instead of the target's
// directory, so the only event in the target's directory is the rename
// (useful when a watcher reloads on every event there). dir must be on the
// same file system; when it cannot be written or is on another one, the
// temporary file is staged in the target's directory instead.
func StageIn(dir string) Option {
	return func(o *options) { o.stageDir = dir }
}

// Owner gives the new file to uid and gid before it takes the target's
// place (the caller must be allowed to chown).
func Owner(uid, gid int) Option {
	return func(o *options) { o.chown, o.uid, o.gid = true, uid, gid }
}

// WriteFile replaces path with data, with permissions perm.
func WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode, opts ...Option) error {
	return write(ctx, path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, perm, false, opts)
}

// Write replaces path with everything r yields, with permissions perm. An
// error reading r leaves path untouched.
func Write(ctx context.Context, path string, r io.Reader, perm fs.FileMode, opts ...Option) error {
	return write(ctx, path, func(w io.Writer) error {
		_, err := io.Copy(w, r)
		return err
	}, perm, false, opts)
}

// Create writes path with data only if it does not exist yet; otherwise it
// returns an error wrapping fs.ErrExist and leaves the existing file alone.
// The file appears complete or not at all (the synced temporary file is
// hard-linked to path), so of two concurrent Creates exactly one succeeds
// and the other never sees a partial file.
func Create(ctx context.Context, path string, data []byte, perm fs.FileMode, opts ...Option) error {
	return write(ctx, path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, perm, true, opts)
}

// errStage marks a failure to create the temporary file in the staging
// directory (so the target's directory can be tried instead).
var errStage = errors.New("stage temporary file")

func write(ctx context.Context, path string, fill func(io.Writer) error, perm fs.FileMode, exclusive bool, opts []Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	path = filepath.Clean(path)
	dir := filepath.Dir(path)
	if o.stageDir != "" && filepath.Clean(o.stageDir) != dir {
		prefix := "." + filepath.Base(dir) + "-" + filepath.Base(path)
		err := writeVia(ctx, o.stageDir, prefix, path, fill, perm, exclusive, o)
		if err == nil || !errors.Is(err, errStage) {
			return err
		}
	}
	return writeVia(ctx, dir, "."+filepath.Base(path), path, fill, perm, exclusive, o)
}

// writeVia writes a temporary file prefix.*.tmp in stageDir and moves it to
// path.
func writeVia(ctx context.Context, stageDir, prefix, path string, fill func(io.Writer) error, perm fs.FileMode,
	exclusive bool, o options) (err error) {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(stageDir, prefix+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w: %w", path, errStage, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: chmod: %w", path, err)
	}
	if o.chown {
		if err = tmp.Chown(o.uid, o.gid); err != nil {
			return fmt.Errorf("write %s: chown: %w", path, err)
		}
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err = ctx.Err(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if exclusive {
		err = os.Link(tmp.Name(), path)
		if err == nil {
			// The data is in path now; the temporary name goes.
			_ = os.Remove(tmp.Name())
		}
	} else {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		if errors.Is(err, syscall.EXDEV) {
			return fmt.Errorf("write %s: %w: %w", path, errStage, err)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir makes the creation, renaming or removal of entries in dir
// durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s for sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
