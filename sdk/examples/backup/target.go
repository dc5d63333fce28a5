package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/berth-dev/berth/sdk"
)

// Target is a backup target storing each object as a file under
// <root>/data/<key>, its metadata under <root>/meta/<key>.json, and partial
// uploads under <root>/tmp until they are complete.
type Target struct {
	sdk.UnimplementedBackupTarget

	mu   sync.RWMutex
	root string // empty until configured
}

// settings is the plugin's settings document.
type settings struct {
	Root string `json:"root"`
}

const schema = `{
  "type": "object",
  "title": "Local directory",
  "properties": {
    "root": {"type": "string", "title": "Directory", "description": "Absolute path of the directory backups are stored in. It is created if missing."}
  },
  "required": ["root"],
  "additionalProperties": false
}`

// Info describes the plugin.
func (t *Target) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:          "backup.example",
		Version:     "0.1.0",
		Description: "Stores backups in a directory on the berth server (SDK example).",
	}, nil
}

// ConfigSchema returns the settings schema.
func (t *Target) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: json.RawMessage(schema)}, nil
}

// Configure checks the directory and creates its layout.
func (t *Target) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	switch {
	case s.Root == "":
		return nil, sdk.NewConfigError("root", "is required")
	case !filepath.IsAbs(s.Root):
		return nil, sdk.NewConfigError("root", "must be an absolute path")
	}
	root := filepath.Clean(s.Root)
	for _, sub := range []string{"data", "meta", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o700); err != nil {
			return nil, sdk.NewConfigError("root", fmt.Sprintf("cannot create the directory: %v", err))
		}
	}
	t.mu.Lock()
	t.root = root
	t.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// dirs returns the configured root, or ErrNotConfigured.
func (t *Target) dirs() (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.root == "" {
		return "", sdk.ErrNotConfigured
	}
	return t.root, nil
}

// paths validates key and returns its data and metadata file paths.
func (t *Target) paths(key string) (data, meta string, err error) {
	root, err := t.dirs()
	if err != nil {
		return "", "", err
	}
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." {
		return "", "", fmt.Errorf("key %q: must be a clean relative path: %w", key, sdk.ErrInvalidArgument)
	}
	rel := filepath.FromSlash(key)
	return filepath.Join(root, "data", rel), filepath.Join(root, "meta", rel+".json"), nil
}

// Put writes the body to a temporary file and renames it into place once it
// is complete, so a failed or cancelled Put leaves no object behind.
func (t *Target) Put(ctx context.Context, req *sdk.PutRequest) (*sdk.PutResponse, error) {
	data, meta, err := t.paths(req.Key)
	if err != nil {
		return nil, err
	}
	root, _ := t.dirs()
	tmp, err := os.CreateTemp(filepath.Join(root, "tmp"), "put-*")
	if err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	n, err := io.Copy(tmp, ctxReader{ctx, req.Body})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	if err := writeMeta(meta, req.Metadata); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	if err := os.MkdirAll(filepath.Dir(data), 0o700); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	if err := os.Rename(tmp.Name(), data); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	return &sdk.PutResponse{Key: req.Key, Size: n}, nil
}

func writeMeta(file string, m map[string]string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	if len(m) == 0 {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

func readMeta(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]string
	return m, json.Unmarshal(b, &m)
}

// Get opens the object's file.
func (t *Target) Get(_ context.Context, req *sdk.GetRequest) (*sdk.GetResponse, error) {
	data, meta, err := t.paths(req.Key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(data)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", req.Key, sdk.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", req.Key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", req.Key, err)
	}
	m, err := readMeta(meta)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("get %s: metadata: %w", req.Key, err)
	}
	return &sdk.GetResponse{
		Object: sdk.ObjectInfo{Key: req.Key, Size: st.Size(), Modified: st.ModTime(), Metadata: m},
		Body:   f,
	}, nil
}

// List walks the data directory.
func (t *Target) List(ctx context.Context, req *sdk.ListRequest) (*sdk.ListResponse, error) {
	root, err := t.dirs()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(root, "data")
	out := &sdk.ListResponse{}
	err = filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, req.Prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m, err := readMeta(filepath.Join(root, "meta", rel+".json"))
		if err != nil {
			return err
		}
		out.Objects = append(out.Objects, sdk.ObjectInfo{Key: key, Size: info.Size(), Modified: info.ModTime(), Metadata: m})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", req.Prefix, err)
	}
	sort.Slice(out.Objects, func(i, j int) bool { return out.Objects[i].Key < out.Objects[j].Key })
	return out, nil
}

// Delete removes the object and its metadata.
func (t *Target) Delete(_ context.Context, req *sdk.DeleteRequest) (*sdk.DeleteResponse, error) {
	data, meta, err := t.paths(req.Key)
	if err != nil {
		return nil, err
	}
	if err := os.Remove(data); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("delete %s: %w", req.Key, sdk.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("delete %s: %w", req.Key, err)
	}
	if err := os.Remove(meta); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("delete %s: metadata: %w", req.Key, err)
	}
	return &sdk.DeleteResponse{}, nil
}

// TestConnection checks that the directory is writable.
func (t *Target) TestConnection(context.Context, *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	root, err := t.dirs()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Join(root, "tmp"), "test-*")
	if err != nil {
		return nil, fmt.Errorf("directory %s is not writable: %w", root, err)
	}
	f.Close()
	os.Remove(f.Name())
	return &sdk.TestConnectionResponse{Message: fmt.Sprintf("directory %s is writable", root)}, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
