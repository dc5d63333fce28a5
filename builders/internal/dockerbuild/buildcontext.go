package dockerbuild

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/berth-dev/berth/sdk"
)

// ErrEscapes is wrapped by the errors of paths that lead out of the source
// tree (through "..", an absolute path or a symbolic link).
var ErrEscapes = errors.New("path leads out of the source directory")

// ResolveInside resolves rel, a slash-separated path relative to root, to
// an absolute path with every symbolic link followed, and refuses it unless
// it stays inside root. The result need not exist only when the error
// wraps fs.ErrNotExist.
func ResolveInside(root, rel string) (string, error) {
	if rel == "" {
		rel = "."
	}
	if filepath.IsAbs(rel) || strings.HasPrefix(rel, "/") {
		return "", fmt.Errorf("%q: must be relative to the repository root: %w: %w", rel, ErrEscapes, sdk.ErrInvalidArgument)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("source directory %s: %w", root, err)
	}
	joined := filepath.Join(realRoot, filepath.FromSlash(rel))
	if !Within(realRoot, joined) {
		return "", fmt.Errorf("%q: %w: %w", rel, ErrEscapes, sdk.ErrInvalidArgument)
	}
	real, err := filepath.EvalSymlinks(joined)
	if err != nil {
		return "", fmt.Errorf("%q: %w", rel, err)
	}
	if !Within(realRoot, real) {
		return "", fmt.Errorf("%q: %w (through a symbolic link): %w", rel, ErrEscapes, sdk.ErrInvalidArgument)
	}
	return real, nil
}

// Within reports whether p is root or inside it; both are clean and
// absolute.
func Within(root, p string) bool {
	return p == root || strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

// ReadIgnoreFile reads the patterns of a .dockerignore file; a missing file
// has none.
func ReadIgnoreFile(file string) ([]string, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	return patterns, nil
}

// ContextWriter writes a Docker build context: a tar stream of files.
type ContextWriter struct {
	tw *tar.Writer
}

// NewContextWriter returns a ContextWriter writing to w.
func NewContextWriter(w io.Writer) *ContextWriter {
	return &ContextWriter{tw: tar.NewWriter(w)}
}

// AddBytes adds a regular file with the given content and permissions.
func (c *ContextWriter) AddBytes(name string, mode int64, data []byte) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), Format: tar.FormatPAX}
	if err := c.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("build context: adding %s: %w", name, err)
	}
	if _, err := c.tw.Write(data); err != nil {
		return fmt.Errorf("build context: adding %s: %w", name, err)
	}
	return nil
}

// AddDirEntry adds an empty directory (0755), so that COPY of it works even
// when nothing is added under it.
func (c *ContextWriter) AddDirEntry(name string) error {
	hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimSuffix(name, "/") + "/", Mode: 0o755, Format: tar.FormatPAX}
	if err := c.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("build context: adding %s: %w", name, err)
	}
	return nil
}

// AddFile adds the regular file at src as name with the given permissions.
func (c *ContextWriter) AddFile(name string, mode int64, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("build context: %s is not a regular file: %w", src, sdk.ErrInvalidArgument)
	}
	return c.copyFile(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: st.Size(), ModTime: st.ModTime(), Format: tar.FormatPAX}, f)
}

// copyFile writes hdr and exactly hdr.Size bytes of r.
func (c *ContextWriter) copyFile(hdr *tar.Header, r io.Reader) error {
	if err := c.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("build context: adding %s: %w", hdr.Name, err)
	}
	if _, err := io.CopyN(c.tw, r, hdr.Size); err != nil {
		return fmt.Errorf("build context: adding %s (did it change during the build?): %w", hdr.Name, err)
	}
	return nil
}

// DirOptions say how AddDir copies a directory.
type DirOptions struct {
	// Prefix is prepended to every name in the archive ("site/"); empty
	// puts the directory at the root of the context.
	Prefix string
	// Exclude holds .dockerignore patterns, relative to the directory.
	Exclude []string
	// Normalize sets the permissions of files to 0644 (0755 when
	// executable by their owner) and of directories to 0755, so that an
	// unprivileged process can read them all.
	Normalize bool
}

// AddDir adds the tree under dir, honouring the exclusion patterns the way
// docker build does: a directory that matches is skipped unless an
// exception ("!pattern") may re-include something inside it. Symbolic
// links are stored as links, never followed, so nothing outside dir is
// read; the Docker Engine resolves them inside the build context.
func (c *ContextWriter) AddDir(ctx context.Context, dir string, opts DirOptions) error {
	pm, err := patternmatcher.New(opts.Exclude)
	if err != nil {
		return fmt.Errorf("build context: .dockerignore: %w: %w", err, sdk.ErrInvalidArgument)
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		if len(opts.Exclude) > 0 {
			excluded, err := pm.MatchesOrParentMatches(rel)
			if err != nil {
				return fmt.Errorf("build context: matching %s against .dockerignore: %w", rel, err)
			}
			if excluded {
				if d.IsDir() && !pm.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		return c.addEntry(p, path.Join(opts.Prefix, filepath.ToSlash(rel)), info, opts.Normalize)
	})
}

// addEntry adds one file, directory or symbolic link; other kinds of files
// (sockets, devices) are left out.
func (c *ContextWriter) addEntry(src, name string, info fs.FileInfo, normalize bool) error {
	var link string
	switch mode := info.Mode(); {
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		link = target
	case mode.IsDir(), mode.IsRegular():
	default:
		return nil
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return fmt.Errorf("build context: %s: %w", src, err)
	}
	hdr.Name = name
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	hdr.Format = tar.FormatPAX
	if normalize {
		switch {
		case info.IsDir():
			hdr.Mode = 0o755
		case info.Mode()&0o100 != 0:
			hdr.Mode = 0o755
		default:
			hdr.Mode = 0o644
		}
	}
	if info.IsDir() {
		hdr.Name += "/"
		if err := c.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("build context: adding %s: %w", name, err)
		}
		return nil
	}
	if hdr.Typeflag != tar.TypeReg {
		if err := c.tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("build context: adding %s: %w", name, err)
		}
		return nil
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	defer f.Close()
	return c.copyFile(hdr, f)
}

// Close finishes the archive.
func (c *ContextWriter) Close() error {
	if err := c.tw.Close(); err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	return nil
}
