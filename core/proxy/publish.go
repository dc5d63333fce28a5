package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// DefaultDynamicFile is the file name berth publishes its routes under.
const DefaultDynamicFile = "berth.yaml"

// ErrRefused is wrapped by Publish errors for content that Traefik's loader
// would reject; the previously published file is kept.
var ErrRefused = errors.New("dynamic config refused")

// Publisher writes dynamic configuration into the directory watched by
// Traefik's file provider. It is safe for concurrent use; concurrent
// publications are applied one at a time, each whole or not at all.
type Publisher struct {
	dir  string
	name string
	mu   sync.Mutex
}

// NewPublisher returns a Publisher writing file name (DefaultDynamicFile if
// empty; it must end in .yaml) in dir, which must exist.
func NewPublisher(dir, name string) *Publisher {
	if name == "" {
		name = DefaultDynamicFile
	}
	return &Publisher{dir: dir, name: name}
}

// Path returns the path of the published file.
func (p *Publisher) Path() string { return filepath.Join(p.dir, p.name) }

// PublishConfig encodes cfg and publishes it; see Publish.
func (p *Publisher) PublishConfig(ctx context.Context, cfg *Config) (bool, error) {
	data, err := Encode(cfg)
	if err != nil {
		return false, fmt.Errorf("publish: %w", err)
	}
	return p.Publish(ctx, data)
}

// Publish replaces the published file with data and reports whether the
// file changed. Data that paerser cannot decode into Config is refused with
// an error wrapping ErrRefused. Identical content is not rewritten, so
// Traefik is not woken up for nothing. The write is atomic: a temporary file
// in the same directory (with an extension Traefik ignores) is written,
// synced and renamed over the old one, and the directory is synced.
func (p *Publisher) Publish(ctx context.Context, data []byte) (bool, error) {
	if ext := filepath.Ext(p.name); ext != ".yaml" && ext != ".yml" {
		return false, fmt.Errorf("publish %s: Traefik's file provider only reads .yaml and .yml files", p.Path())
	}
	if _, err := Decode(data); err != nil {
		return false, fmt.Errorf("publish %s: %w: %w", p.Path(), ErrRefused, err)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("publish %s: %w", p.Path(), err)
	}

	current, err := os.ReadFile(p.Path())
	switch {
	case err == nil && bytes.Equal(current, data):
		return false, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("publish: read current config: %w", err)
	}
	if err := writeFileAtomic(p.dir, p.name, data, 0o644); err != nil {
		return false, fmt.Errorf("publish %s: %w", p.Path(), err)
	}
	return true, nil
}

// writeFileAtomic replaces dir/name with data: temp file in dir, fsync,
// rename, fsync of dir. Readers see the old or the new content, never a mix.
// The temp file ends in ".tmp", which Traefik's file provider ignores.
func writeFileAtomic(dir, name string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write temp file: %w", err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod temp file: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync temp file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename temp file: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}
