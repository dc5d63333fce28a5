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

	"github.com/berth-dev/berth/core/atomicfile"
)

// DefaultDynamicFile is the file name berth publishes its routes under.
// Its content is JSON (see Encode), but the name ends in .yaml: Traefik
// v3's file provider reads only .yaml, .yml and .toml files from its
// directory and skips .json ones, and paerser reads a .yaml file with a
// YAML decoder, of which JSON is a subset.
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

// PublishConfig encodes cfg and publishes it with Publish, so the encoded
// bytes are checked with paerser before Traefik sees them.
func (p *Publisher) PublishConfig(ctx context.Context, cfg *Config) (bool, error) {
	data, err := Encode(cfg)
	if err != nil {
		return false, fmt.Errorf("publish %s: %w", p.Path(), err)
	}
	return p.Publish(ctx, data)
}

// Publish replaces the published file with data and reports whether the
// file changed. Identical content is neither checked again nor rewritten,
// so Traefik is not woken up for nothing. Other content is first read as
// Traefik's file provider would read it (see checkDynamic); content it
// would reject is refused with an error wrapping ErrRefused, and the
// previously published file stays in place. The write is atomic: a
// temporary file is written and synced next to the watched directory
// (inside it, with an extension Traefik ignores, when its parent is not
// usable), renamed over the old one, and the directory is synced.
func (p *Publisher) Publish(ctx context.Context, data []byte) (bool, error) {
	if ext := filepath.Ext(p.name); ext != ".yaml" && ext != ".yml" {
		return false, fmt.Errorf("publish %s: Traefik's file provider only reads .yaml and .yml files", p.Path())
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
	if err := checkDynamic(data); err != nil {
		return false, fmt.Errorf("publish %s: %w: %w", p.Path(), ErrRefused, err)
	}
	if err := publishAtomic(ctx, p.dir, p.name, data, 0o644); err != nil {
		return false, fmt.Errorf("publish %s: %w", p.Path(), err)
	}
	return true, nil
}

// checkDynamic reads data as Traefik's file provider reads a file of its
// directory: it refuses "{{", which the provider would run as a Go
// template (berth never means one), and decodes the rest with paerser
// (Decode). It is the last check before a configuration reaches Traefik.
func checkDynamic(data []byte) error {
	if i := bytes.Index(data, []byte("{{")); i >= 0 {
		return fmt.Errorf("byte %d: %q would be run by Traefik as a template action", i, "{{")
	}
	if _, err := Decode(data); err != nil {
		return err
	}
	return nil
}

// publishAtomic replaces dir/name with data atomically (core/atomicfile),
// staging the temp file in dir's parent, so that the only event in dir
// (which Traefik's file provider watches, reloading every file on each
// event) is the rename: staging inside dir costs Traefik three extra
// reloads of the old content per publication, which at a thousand
// applications delays the new one by several hundred milliseconds. When the
// parent cannot be written or is another file system, it stages in dir,
// with a ".tmp" name Traefik ignores.
func publishAtomic(ctx context.Context, dir, name string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFile(ctx, filepath.Join(dir, name), data, perm, atomicfile.StageIn(filepath.Dir(filepath.Clean(dir))))
}
