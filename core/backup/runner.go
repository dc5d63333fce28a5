// Package backup runs backups and restores: database dumps made by each
// engine's own tool inside the database's container and volume archives of
// applications, gzip-compressed and streamed to a backup target plugin
// (never fully copied to local disk or memory), with size and sha256
// recorded; retention; and restores that verify the whole object before
// anything touches the database.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

// Target is a backup target plugin's client (plugins.BackupTargetClient).
type Target interface {
	Put(ctx context.Context, req *sdk.PutRequest) (*sdk.PutResponse, error)
	Get(ctx context.Context, req *sdk.GetRequest) (*sdk.GetResponse, error)
	List(ctx context.Context, req *sdk.ListRequest) (*sdk.ListResponse, error)
	Delete(ctx context.Context, req *sdk.DeleteRequest) (*sdk.DeleteResponse, error)
	TestConnection(ctx context.Context, req *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error)
}

// Targets opens the target of a destination.
type Targets interface {
	Target(ctx context.Context, dest store.BackupDestination) (Target, error)
}

// HostTargets opens destinations as keyed instances of their plugin on a
// plugin host: one process per destination, with its own settings.
type HostTargets struct{ Host *plugins.Host }

// Target implements Targets.
func (h HostTargets) Target(ctx context.Context, dest store.BackupDestination) (Target, error) {
	c, err := h.Host.BackupTargetInstance(ctx, dest.PluginID, dest.ID.String(), dest.Settings)
	if err != nil {
		return nil, fmt.Errorf("backup destination %s: %w", dest.Name, err)
	}
	return c, nil
}

// EventEmitter delivers events to the notifiers (core/notify).
type EventEmitter interface {
	Emit(ctx context.Context, ev sdk.Event)
}

// TxEmitter is an EventEmitter that queues deliveries in a transaction
// (notify.Dispatcher), so a backup's outcome and its notification commit
// together.
type TxEmitter interface {
	EventEmitter
	EmitTx(ctx context.Context, tx pgx.Tx, ev sdk.Event)
}

// Lifecycle starts and stops database services (dbservice.Service).
type Lifecycle interface {
	Start(ctx context.Context, db store.Database, progress func(string)) error
	Stop(ctx context.Context, db store.Database, progress func(string)) error
}

// ServiceScaler scales application services for volume backups that stop
// the service during the copy (swarm.Manager implements it via Scale).
type ServiceScaler interface {
	Scale(ctx context.Context, service string, replicas uint64) (previous uint64, err error)
	// StopForCopy scales a service to zero, recording its previous
	// replicas durably on the service first (in the same update).
	StopForCopy(ctx context.Context, service string) (previous uint64, err error)
	// ResumeStopped scales services StopForCopy left stopped (matching
	// labels) back to their recorded replicas.
	ResumeStopped(ctx context.Context, labels map[string]string) ([]string, error)
}

// Deps are the runner's collaborators.
type Deps struct {
	Store    *store.Store
	Docker   Docker
	Targets  Targets
	Services Lifecycle
	// Scaler is needed for volume backups with stop_service only.
	Scaler ServiceScaler
	// Switcher is needed for volume restores only.
	Switcher VolumeSwitcher
	// Events may be nil.
	Events EventEmitter
	Logger *slog.Logger
}

// Runner runs backups and restores.
type Runner struct {
	d   Deps
	now func() time.Time
}

// New returns a Runner.
func New(d Deps) *Runner {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{d: d, now: time.Now}
}

// Manifest describes a backup object; it is stored next to the object as
// <key>.json (the object's own metadata is written before its size and
// digest are known) and verified before every restore.
type Manifest struct {
	Kind      string          `json:"kind"`
	Engine    database.Engine `json:"engine,omitempty"`
	Database  string          `json:"database,omitempty"`
	DBName    string          `json:"db_name,omitempty"`
	Volume    string          `json:"volume,omitempty"`
	SizeBytes int64           `json:"size_bytes"`
	SHA256    string          `json:"sha256"`
	Created   time.Time       `json:"created"`
}

// ManifestSuffix is appended to an object's key to name its manifest.
const ManifestSuffix = ".json"

// Key is a database backup's object key:
// <prefix>/<engine>/<database>/<UTC timestamp>.<ext>.gz.
func Key(prefix string, eng database.Spec, dbName string, at time.Time) string {
	name := at.UTC().Format("2006-01-02T15-04-05.000Z") + "." + eng.DumpExtension + ".gz"
	return joinKey(prefix, string(eng.Engine), dbName, name)
}

func joinKey(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p = strings.Trim(p, "/"); p != "" {
			keep = append(keep, p)
		}
	}
	return path.Join(keep...)
}

// counter counts bytes written.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// Result describes a stored backup object.
type Result struct {
	Key       string
	SizeBytes int64
	SHA256    string
}

// putStream stores what write produces under key: write's output is
// compressed by the caller and streamed through a pipe into Put, counted
// and hashed on the way. When write fails the pipe is closed with its
// error, so the target never completes the object.
func putStream(ctx context.Context, t Target, key string, meta map[string]string, write func(w io.Writer) error) (Result, error) {
	pr, pw := io.Pipe()
	sum := sha256.New()
	n := &counter{}
	putDone := make(chan error, 1)
	go func() {
		_, err := t.Put(ctx, &sdk.PutRequest{Key: key, Body: pr, Size: -1, Metadata: meta})
		if err == nil {
			err = io.ErrClosedPipe // anything written after Put returned is lost
		}
		pr.CloseWithError(err)
		if errors.Is(err, io.ErrClosedPipe) {
			err = nil
		}
		putDone <- err
	}()
	werr := write(io.MultiWriter(pw, sum, n))
	if werr != nil {
		pw.CloseWithError(werr)
		perr := <-putDone
		if perr != nil && !errors.Is(perr, werr) {
			return Result{}, fmt.Errorf("%w (and the upload stopped: %v)", werr, perr)
		}
		return Result{}, werr
	}
	pw.Close()
	if err := <-putDone; err != nil {
		return Result{}, fmt.Errorf("upload %s: %w", key, err)
	}
	return Result{Key: key, SizeBytes: n.n, SHA256: hex.EncodeToString(sum.Sum(nil))}, nil
}

// writeManifest stores m next to key.
func writeManifest(ctx context.Context, t Target, key string, m Manifest) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = t.Put(ctx, &sdk.PutRequest{Key: key + ManifestSuffix, Body: strings.NewReader(string(data)), Size: int64(len(data)),
		Metadata: map[string]string{"content-type": "application/json"}})
	if err != nil {
		return fmt.Errorf("upload manifest of %s: %w", key, err)
	}
	return nil
}

// readManifest fetches the manifest of key.
func readManifest(ctx context.Context, t Target, key string) (Manifest, error) {
	var m Manifest
	obj, err := t.Get(ctx, &sdk.GetRequest{Key: key + ManifestSuffix})
	if err != nil {
		return m, fmt.Errorf("read manifest of %s: %w", key, err)
	}
	defer obj.Body.Close()
	if err := json.NewDecoder(io.LimitReader(obj.Body, 1<<20)).Decode(&m); err != nil {
		return m, fmt.Errorf("read manifest of %s: %w", key, err)
	}
	return m, nil
}

// hashingReader hashes and counts what is read through it, and reports
// the count (with total) to report when set.
type hashingReader struct {
	r      io.Reader
	h      hash.Hash
	n      int64
	report func(read, total int64)
	total  int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	if h.report != nil && n > 0 {
		h.report(h.n, h.total)
	}
	return n, err
}

func (r *Runner) emit(ctx context.Context, ev sdk.Event) {
	if r.d.Events != nil {
		r.d.Events.Emit(context.WithoutCancel(ctx), ev)
	}
}
