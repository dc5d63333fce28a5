package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// ErrVerification marks a backup object that failed verification (size,
// sha256 or gzip stream); the database was not touched.
var ErrVerification = errors.New("backup verification failed")

// ErrIncompatible marks a backup of another engine than the target
// database's; the database was not touched.
var ErrIncompatible = errors.New("backup does not fit the database")

// Verified describes an object that passed verification.
type Verified struct {
	SizeBytes int64
	SHA256    string
	// Uncompressed is the length of the decompressed content.
	Uncompressed int64
}

// Verify reads the whole object once: its size and sha256 must match the
// expected ones and it must decompress completely (a truncated or
// corrupted gzip stream fails its CRC or length check).
// onBytes, when set, is told how much has been read.
func Verify(ctx context.Context, t Target, key string, wantSize int64, wantSHA string, onBytes func(read, total int64)) (Verified, error) {
	obj, err := t.Get(ctx, &sdk.GetRequest{Key: key})
	if err != nil {
		return Verified{}, fmt.Errorf("read %s: %w", key, err)
	}
	defer obj.Body.Close()
	hr := &hashingReader{r: obj.Body, h: sha256.New(), report: onBytes, total: wantSize}
	zr, err := gzip.NewReader(hr)
	var n int64
	if err == nil {
		n, err = io.Copy(io.Discard, zr)
	}
	if err == nil {
		_, err = io.Copy(io.Discard, hr) // trailing bytes count too
	}
	got := Verified{SizeBytes: hr.n, SHA256: hex.EncodeToString(hr.h.Sum(nil)), Uncompressed: n}
	switch {
	case ctx.Err() != nil:
		return got, ctx.Err()
	case hr.n != wantSize:
		return got, fmt.Errorf("%w: %s is %d bytes, the backup recorded %d (truncated or replaced)", ErrVerification, key, hr.n, wantSize)
	case got.SHA256 != wantSHA:
		return got, fmt.Errorf("%w: %s has sha256 %s, the backup recorded %s (corrupted)", ErrVerification, key, got.SHA256, wantSHA)
	case err != nil:
		return got, fmt.Errorf("%w: %s does not decompress: %w", ErrVerification, key, err)
	}
	return got, nil
}

// RestoreRequest names a backup, by record or by its object on a
// destination, and the database to restore it into.
type RestoreRequest struct {
	// ID identifies the restore (its record): the temporary database a
	// restore loads into is named after it, so one left behind by a killed
	// process can be found and dropped. Zero picks a random one.
	ID uuid.UUID
	// BackupID is a recorded backup; or set DestinationID and Key for an
	// object found on a destination (verified against its manifest).
	BackupID      uuid.UUID
	DestinationID uuid.UUID
	Key           string
	// DatabaseID is the target database: the backed-up one or another of
	// the same engine.
	DatabaseID uuid.UUID
	// OnBytes, when set, is told how much of the object has been read in
	// the current pass (verification, then loading) and its size.
	OnBytes func(read, total int64)
}

// Restore verifies the backup completely, then loads it into the target
// database without touching its current data until the new data loaded
// completely: PostgreSQL, MySQL/MariaDB and MongoDB load into a fresh
// database of the same server which is then swapped in (see swapIn);
// Redis gets its dump.rdb replaced while stopped, with the previous one
// kept aside and put back if the new one does not load. A failure or a
// cancellation before the swap leaves the previous data serving. A stopped
// database is started for the restore and stopped again.
func (r *Runner) Restore(ctx context.Context, req RestoreRequest, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	if req.ID == uuid.Nil {
		req.ID = uuid.New()
	}
	db, err := r.d.Store.GetDatabase(ctx, req.DatabaseID)
	if err != nil {
		return err
	}
	destID, key := req.DestinationID, req.Key
	var rec *store.Backup
	if req.BackupID != uuid.Nil {
		b, err := r.d.Store.GetBackup(ctx, req.BackupID)
		if err != nil {
			return err
		}
		switch {
		case b.Status != store.BackupSucceeded:
			return fmt.Errorf("%w: backup %s is %s, not succeeded: nothing to restore", ErrIncompatible, b.ID, b.Status)
		case b.DeletedAt != nil:
			return fmt.Errorf("%w: backup %s was removed by retention", ErrIncompatible, b.ID)
		case b.DestinationID == nil:
			return fmt.Errorf("%w: backup %s: its destination was deleted", ErrIncompatible, b.ID)
		case b.Kind != "database":
			return fmt.Errorf("%w: backup %s is a volume backup; restore it into its application", ErrIncompatible, b.ID)
		}
		rec, destID, key = &b, *b.DestinationID, b.Key
	}
	dest, err := r.d.Store.GetBackupDestination(ctx, destID)
	if err != nil {
		return err
	}
	if dest.OrganizationID != db.OrganizationID {
		return fmt.Errorf("backup destination %s: %w", dest.Name, store.ErrNotFound)
	}
	t, err := r.d.Targets.Target(ctx, dest)
	if err != nil {
		return err
	}
	m, merr := readManifest(ctx, t, key)
	wantSize, wantSHA := m.SizeBytes, m.SHA256
	srcEngine, srcDB := m.Engine, m.DBName
	if rec != nil {
		wantSize, wantSHA = rec.SizeBytes, rec.SHA256
		if rec.DatabaseID != nil {
			if src, err := r.d.Store.GetDatabase(ctx, *rec.DatabaseID); err == nil {
				srcEngine, srcDB = src.Engine, src.Credentials.Database
			}
		}
	} else if merr != nil {
		return fmt.Errorf("%w: %w", ErrVerification, merr)
	}
	if srcEngine != "" && family(srcEngine) != family(db.Engine) {
		return fmt.Errorf("%w: the backup is a %s dump; database %s runs %s", ErrIncompatible, srcEngine, db.Name, db.Engine)
	}

	progress("verifying " + key)
	v, err := Verify(ctx, t, key, wantSize, wantSHA, req.OnBytes)
	if err != nil {
		return err
	}
	progress(fmt.Sprintf("verified %d bytes (sha256 %s)", v.SizeBytes, v.SHA256))
	src := source{t: t, key: key, v: v, onBytes: req.OnBytes}
	eng, _ := database.Lookup(db.Engine)
	if eng.NeedsRestart() {
		return r.restoreRedis(ctx, src, db, progress)
	}
	cid, release, err := r.running(ctx, db)
	if err != nil {
		return err
	}
	defer release()
	return r.swapIn(ctx, cid, src, db, srcDB, req.ID, progress)
}

// source is a verified backup object to load.
type source struct {
	t       Target
	key     string
	v       Verified
	onBytes func(read, total int64)
}

// streamInto reads the object again, decompressed, into load, and checks
// it was still the verified object.
func (r *Runner) streamInto(ctx context.Context, src source, load func(io.Reader) error) error {
	obj, err := src.t.Get(ctx, &sdk.GetRequest{Key: src.key})
	if err != nil {
		return fmt.Errorf("read %s: %w", src.key, err)
	}
	defer obj.Body.Close()
	hr := &hashingReader{r: obj.Body, h: sha256.New(), report: src.onBytes, total: src.v.SizeBytes}
	zr, err := gzip.NewReader(hr)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVerification, err)
	}
	if err := load(zr); err != nil {
		return fmt.Errorf("restore failed: %w", err)
	}
	_, _ = io.Copy(io.Discard, hr)
	if sum := hex.EncodeToString(hr.h.Sum(nil)); sum != src.v.SHA256 {
		return fmt.Errorf("%w: %s changed during the restore (sha256 %s)", ErrVerification, src.key, sum)
	}
	return nil
}

// family groups engines whose dumps are interchangeable.
func family(e database.Engine) database.Engine {
	if e == database.MariaDB {
		return database.MySQL
	}
	return e
}

// withVolumes runs fn with a created (never started) container of image
// mounting each volume at its path, then removes the container. Docker's
// copy API works on such containers: no shell or tool is needed in the
// image.
func (r *Runner) withVolumes(ctx context.Context, image string, volumes map[string]string, fn func(cid string) error) error {
	var mounts []mount.Mount
	for v, p := range volumes {
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: v, Target: p})
	}
	c, err := r.d.Docker.ContainerCreate(ctx, &container.Config{Image: image, Entrypoint: []string{"/berth-never-started"},
		Labels: map[string]string{"dev.berth.managed": "true", "dev.berth.role": "backup-helper"}},
		&container.HostConfig{Mounts: mounts, NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		return fmt.Errorf("create helper container from %s: %w", image, err)
	}
	defer func() {
		_ = r.d.Docker.ContainerRemove(context.WithoutCancel(ctx), c.ID, container.RemoveOptions{Force: true})
	}()
	return fn(c.ID)
}

// ownerOf returns the owner of a directory in a container (the first entry
// of its tar archive).
func ownerOf(ctx context.Context, d Docker, cid, dir string) (int, int, error) {
	rc, _, err := d.CopyFromContainer(ctx, cid, dir)
	if err != nil {
		return 0, 0, fmt.Errorf("inspect %s: %w", dir, err)
	}
	defer rc.Close()
	h, err := tar.NewReader(rc).Next()
	if err != nil {
		return 0, 0, fmt.Errorf("inspect %s: %w", dir, err)
	}
	return h.Uid, h.Gid, nil
}
