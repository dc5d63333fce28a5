// Package local implements berth's local backup target (id backup.local): it
// stores backup objects as files in a directory on the berth server.
//
// Layout: the object "a/b.sql.gz" is the file <directory>/a/b.sql.gz and its
// metadata, when it has any, the JSON file <directory>/a/b.sql.gz.meta.json.
// A Put writes a hidden temporary file (".berth-tmp-...") next to the object,
// fsyncs it and renames it into place, so an object is never seen half
// written, and a failed or cancelled Put removes its temporary file.
//
// Security: keys are checked (relative, slash-separated, no "..", no control
// characters) and every file operation goes through an os.Root opened on the
// directory, so nothing outside it can be read or written, even through
// symbolic links planted inside it. Files are created 0600 and directories
// 0700: backups hold secrets.
package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/berth-dev/berth/plugins/settingsschema"
	"github.com/berth-dev/berth/providers/backup/internal/objectkey"
	"github.com/berth-dev/berth/sdk"
)

// ID is the plugin id.
const ID = "backup.local"

// Version is the plugin's version.
const Version = "1.0.0"

// Settings are the plugin's settings. Their tags make the settings schema.
type Settings struct {
	// Directory is the absolute path of an existing directory backups are
	// stored in.
	Directory string `json:"directory" jsonschema:"required,title=Directory,pattern=^/" jsonschema_extras:"x-berth-host-path=true" jsonschema_description:"Absolute path of an existing directory on the berth server, writable by berth, for example /var/backups/berth."`
}

// settingsSchema is the settings' schema.
var settingsSchema = settingsschema.Encode(settingsschema.For[Settings]("Local directory", "Stores backups as files in a directory on the berth server. Prefer a disk other than the one the databases live on."))

// Names the target keeps for itself; keys using them are refused and List
// never shows them.
const (
	metaSuffix  = ".meta.json"   // metadata sidecar of an object
	tmpPrefix   = ".berth-tmp-"  // an object being written
	probePrefix = ".berth-probe" // TestConnection's probe file
)

// copyBufferSize is the buffer Put copies bodies with.
const copyBufferSize = 256 << 10

// Target is the local backup target. The zero value is not configured.
type Target struct {
	sdk.UnimplementedBackupTarget

	mu  sync.RWMutex
	dir string // cleaned absolute path; empty until configured
}

// New returns an unconfigured Target.
func New() *Target { return &Target{} }

// Info describes the plugin.
func (t *Target) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:          ID,
		Version:     Version,
		Description: "Stores backups as files in a directory on the berth server.",
	}, nil
}

// ConfigSchema returns the settings schema.
func (t *Target) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: settingsSchema}, nil
}

// Configure validates and applies settings. It does not touch the file
// system: TestConnection checks that the directory exists and is writable,
// and a directory that is missing (an unmounted disk) makes each call fail
// rather than silently filling the disk underneath.
func (t *Target) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var s Settings
	if err := sdk.DecodeSettings(req.Settings, &s); err != nil {
		return nil, err
	}
	switch {
	case s.Directory == "":
		return nil, sdk.NewConfigError("directory", "is required")
	case strings.ContainsRune(s.Directory, 0):
		return nil, sdk.NewConfigError("directory", "must not contain NUL bytes")
	case !filepath.IsAbs(s.Directory):
		return nil, sdk.NewConfigError("directory", "must be an absolute path, such as /var/backups/berth")
	case filepath.Clean(s.Directory) == string(filepath.Separator):
		return nil, sdk.NewConfigError("directory", "must not be the root directory")
	}
	t.mu.Lock()
	t.dir = filepath.Clean(s.Directory)
	t.mu.Unlock()
	return &sdk.ConfigureResponse{}, nil
}

// open opens the configured directory as an os.Root, through which every
// file operation goes. The caller closes it.
func (t *Target) open() (*os.Root, string, error) {
	t.mu.RLock()
	dir := t.dir
	t.mu.RUnlock()
	if dir == "" {
		return nil, "", sdk.ErrNotConfigured
	}
	root, err := os.OpenRoot(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, dir, fmt.Errorf("backup directory %s does not exist (create it, or mount the disk it is on): %w", dir, sdk.ErrUnavailable)
	case errors.Is(err, fs.ErrPermission):
		return nil, dir, fmt.Errorf("backup directory %s cannot be opened by berth (permission denied): %w", dir, sdk.ErrUnavailable)
	case err != nil:
		return nil, dir, fmt.Errorf("opening backup directory %s: %w", dir, err)
	}
	return root, dir, nil
}

// checkKey validates key, refusing the names the target keeps for itself.
func checkKey(key string) error {
	if err := objectkey.Validate(key); err != nil {
		return err
	}
	for _, seg := range strings.Split(key, "/") {
		if strings.HasPrefix(seg, tmpPrefix) || strings.HasPrefix(seg, probePrefix) {
			return fmt.Errorf("key %q: names starting with %q are reserved by the local target: %w", key, ".berth-", sdk.ErrInvalidArgument)
		}
	}
	if strings.HasSuffix(key, metaSuffix) {
		return fmt.Errorf("key %q: names ending in %q are reserved by the local target: %w", key, metaSuffix, sdk.ErrInvalidArgument)
	}
	return nil
}

// hidden reports whether a file name belongs to the target rather than
// being an object.
func hidden(name string) bool {
	return strings.HasPrefix(name, tmpPrefix) || strings.HasPrefix(name, probePrefix) || strings.HasSuffix(name, metaSuffix)
}

// Put writes the object to a temporary file next to its final name, fsyncs
// it, and renames it into place once Body was read completely (and, when
// Size is known, had exactly Size bytes).
func (t *Target) Put(ctx context.Context, req *sdk.PutRequest) (_ *sdk.PutResponse, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	root, _, err := t.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if st, err := root.Lstat(req.Key); err == nil && st.IsDir() {
		return nil, fmt.Errorf("put %s: the key is a folder holding other objects: %w", req.Key, sdk.ErrInvalidArgument)
	}

	tmp, f, err := createTemp(root, req.Key)
	if err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	var metaTmp string
	defer func() {
		if err != nil {
			f.Close()
			_ = root.Remove(tmp)
			if metaTmp != "" {
				_ = root.Remove(metaTmp)
			}
		}
	}()

	n, err := io.CopyBuffer(f, ctxReader{ctx, req.Body}, make([]byte, copyBufferSize))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return nil, fmt.Errorf("put %s: reading the body: %w", req.Key, err)
	}
	if req.Size >= 0 && n != req.Size {
		return nil, fmt.Errorf("put %s: the body had %d bytes, the request said %d: %w", req.Key, n, req.Size, sdk.ErrInvalidArgument)
	}
	if err = f.Sync(); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	if err = f.Close(); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	if err = ctx.Err(); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}

	// Metadata first, so that the object never shows up with its
	// predecessor's metadata.
	if len(req.Metadata) > 0 {
		if metaTmp, err = writeMetaTemp(root, req.Key, req.Metadata); err != nil {
			return nil, fmt.Errorf("put %s: metadata: %w", req.Key, err)
		}
		if err = root.Rename(metaTmp, req.Key+metaSuffix); err != nil {
			return nil, fmt.Errorf("put %s: metadata: %w", req.Key, err)
		}
		metaTmp = ""
	} else if rerr := root.Remove(req.Key + metaSuffix); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return nil, fmt.Errorf("put %s: removing old metadata: %w", req.Key, rerr)
	}
	if err = root.Rename(tmp, req.Key); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	syncDir(root, path.Dir(req.Key))
	return &sdk.PutResponse{Key: req.Key, Size: n}, nil
}

// createTemp creates a new hidden file in the directory of key, creating
// that directory as needed.
func createTemp(root *os.Root, key string) (string, *os.File, error) {
	dir := path.Dir(key)
	var last error
	// A concurrent Delete may remove an emptied directory between MkdirAll
	// and OpenFile: try again.
	for range 3 {
		if dir != "." {
			if err := root.MkdirAll(dir, 0o700); err != nil {
				return "", nil, err
			}
		}
		name := path.Join(dir, tmpPrefix+randomSuffix())
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return name, f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", nil, err
		}
		last = err
	}
	return "", nil, last
}

// writeMetaTemp writes metadata as JSON to a new hidden file next to key,
// fsynced, and returns its name.
func writeMetaTemp(root *os.Root, key string, meta map[string]string) (name string, err error) {
	data, err := json.Marshal(meta)
	if err != nil {
		return "", err
	}
	name, f, err := createTemp(root, key)
	if err != nil {
		return "", err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = root.Remove(name)
		return "", err
	}
	return name, nil
}

// readMeta reads the metadata of key; nil when it has none.
func readMeta(root *os.Root, key string) (map[string]string, error) {
	data, err := root.ReadFile(key + metaSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var meta map[string]string
	if err := json.Unmarshal(data, &meta); err != nil {
		return nil, fmt.Errorf("%s%s is not valid metadata: %w", key, metaSuffix, err)
	}
	return meta, nil
}

// syncDir fsyncs a directory so that a rename in it survives a crash. It
// is best effort: not every file system supports it.
func syncDir(root *os.Root, dir string) {
	if d, err := root.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// stat returns the file info of key's file without following a symbolic
// link at the key itself, and reports a missing or non-regular file as
// sdk.ErrNotFound.
func stat(root *os.Root, op, key string) (fs.FileInfo, error) {
	st, err := root.Lstat(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s: %w", op, key, sdk.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("%s %s: %w", op, key, err)
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, fmt.Errorf("%s %s: the file is a symbolic link, which the local target does not follow: %w", op, key, sdk.ErrInvalidArgument)
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s %s: %w", op, key, sdk.ErrNotFound)
	}
	return st, nil
}

// Get opens the object's file; the caller closes the body.
func (t *Target) Get(ctx context.Context, req *sdk.GetRequest) (*sdk.GetResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	root, _, err := t.open()
	if err != nil {
		return nil, err
	}
	defer root.Close() // an open file outlives its Root
	if _, err := stat(root, "get", req.Key); err != nil {
		return nil, err
	}
	f, err := root.Open(req.Key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("get %s: %w", req.Key, sdk.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get %s: %w", req.Key, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: %w", sdk.ErrNotFound)
	}
	var meta map[string]string
	if err == nil {
		meta, err = readMeta(root, req.Key)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", req.Key, err)
	}
	return &sdk.GetResponse{
		Object: sdk.ObjectInfo{Key: req.Key, Size: st.Size(), Modified: st.ModTime(), Metadata: meta},
		Body:   f,
	}, nil
}

// List walks the directory below the prefix's folder and returns the
// objects whose key starts with the prefix, sorted by key. It reports key,
// size and modification time; Get returns an object's metadata.
func (t *Target) List(ctx context.Context, req *sdk.ListRequest) (*sdk.ListResponse, error) {
	if err := objectkey.ValidatePrefix(req.Prefix); err != nil {
		return nil, err
	}
	root, _, err := t.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	start := path.Dir(req.Prefix) // "db/2025-" and "db/" start at "db"; "" and "db" at "."
	out := &sdk.ListResponse{Objects: []sdk.ObjectInfo{}}
	err = fs.WalkDir(root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // the prefix's folder, or a folder deleted meanwhile
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != start && !strings.HasPrefix(p+"/", req.Prefix) && !strings.HasPrefix(req.Prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || hidden(d.Name()) || !strings.HasPrefix(p, req.Prefix) {
			return nil // symbolic links, the target's own files, other prefixes
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		} else if err != nil {
			return err
		}
		out.Objects = append(out.Objects, sdk.ObjectInfo{Key: p, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q: %w", req.Prefix, err)
	}
	sort.Slice(out.Objects, func(i, j int) bool { return out.Objects[i].Key < out.Objects[j].Key })
	return out, nil
}

// Delete removes the object and its metadata, then the folders it leaves
// empty.
func (t *Target) Delete(ctx context.Context, req *sdk.DeleteRequest) (*sdk.DeleteResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkKey(req.Key); err != nil {
		return nil, err
	}
	root, _, err := t.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if _, err := stat(root, "delete", req.Key); err != nil {
		return nil, err
	}
	if err := root.Remove(req.Key); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("delete %s: %w", req.Key, sdk.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("delete %s: %w", req.Key, err)
	}
	if err := root.Remove(req.Key + metaSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("delete %s: removing metadata: %w", req.Key, err)
	}
	for dir := path.Dir(req.Key); dir != "."; dir = path.Dir(dir) {
		if root.Remove(dir) != nil { // not empty: done
			break
		}
	}
	syncDir(root, path.Dir(req.Key))
	return &sdk.DeleteResponse{}, nil
}

// TestConnection checks that the directory exists and that berth can create
// and remove a file in it.
func (t *Target) TestConnection(ctx context.Context, _ *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, dir, err := t.open()
	if err != nil {
		return nil, err
	}
	defer root.Close()
	probe := probePrefix + "-" + randomSuffix()
	f, err := root.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup directory %s is not writable by berth: %w", dir, err)
	}
	_, err = f.Write([]byte("berth write probe\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := root.Remove(probe); err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup directory %s: writing a test file failed: %w", dir, err)
	}
	return &sdk.TestConnectionResponse{Message: fmt.Sprintf("directory %s is writable", dir)}, nil
}

// ctxReader stops reading once ctx is done, so a cancelled Put ends even
// when its body keeps delivering data.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// randomSuffix returns 16 random hex digits for temporary names.
func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
