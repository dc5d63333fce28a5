package backup

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/testhook"
	"github.com/berth-dev/berth/sdk"
)

// Run makes one attempt at backup record id (created queued by the
// scheduler or by "back up now"): dump or archive, compress, stream to the
// destination, record key, size and sha256, then apply the policy's
// retention. A success emits backup.succeeded; a failure is recorded and
// emits backup.failed when final is set (the last attempt).
func (r *Runner) Run(ctx context.Context, id uuid.UUID, final bool) error {
	b, err := r.d.Store.GetBackup(ctx, id)
	if err != nil {
		return err
	}
	if err := r.d.Store.StartBackup(ctx, id); err != nil {
		return err
	}
	start := time.Now()
	job, err := r.prepare(ctx, b)
	var res Result
	if err == nil {
		res, err = job.run(ctx)
	}
	took := time.Since(start)
	if err != nil {
		msg := err.Error()
		var ev *sdk.Event
		if final {
			e := backupEvent(false, b, job.subject, job.destName, res, took, msg)
			r.scope(ctx, b, &e)
			ev = &e
		}
		if ferr := r.finish(context.WithoutCancel(ctx), id, store.BackupFailed, Result{}, msg, ev); ferr != nil {
			r.d.Logger.Error("recording a failed backup failed", "backup", id, "err", ferr)
		}
		r.d.Logger.Warn("backup failed", "backup", id, "subject", job.subject, "final", final, "err", msg)
		return err
	}
	ev := backupEvent(true, b, job.subject, job.destName, res, took, "")
	r.scope(ctx, b, &ev)
	if err := r.finish(ctx, id, store.BackupSucceeded, res, "", &ev); err != nil {
		return err
	}
	r.d.Logger.Info("backup succeeded", "backup", id, "subject", job.subject, "key", res.Key, "bytes", res.SizeBytes)
	if job.policy != nil {
		if err := r.applyRetention(ctx, *job.policy, job.target); err != nil {
			r.d.Logger.Warn("backup retention failed", "policy", job.policy.ID, "err", err)
		}
	}
	return nil
}

// finish records a run's outcome and queues its notification (ev, when
// set) in the same transaction, so a recorded outcome is notified and an
// unrecorded one is not.
func (r *Runner) finish(ctx context.Context, id uuid.UUID, status string, res Result, errMsg string, ev *sdk.Event) error {
	te, txEmit := r.d.Events.(TxEmitter)
	err := r.d.Store.WithTx(ctx, func(tx *store.Tx) error {
		if err := tx.FinishBackup(ctx, id, status, res.Key, res.SizeBytes, res.SHA256, errMsg); err != nil {
			return err
		}
		if ev != nil && txEmit {
			te.EmitTx(ctx, tx.Pgx(), *ev)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ev != nil && !txEmit {
		r.emit(ctx, *ev)
	}
	return nil
}

// backupJob is one resolved backup run.
type backupJob struct {
	subject  string
	destName string
	target   Target
	policy   *store.BackupPolicy
	run      func(ctx context.Context) (Result, error)
}

// prepare resolves a backup record into what to dump and where to.
func (r *Runner) prepare(ctx context.Context, b store.Backup) (backupJob, error) {
	job := backupJob{subject: "backup " + b.ID.String()}
	if b.DestinationID == nil {
		return job, errors.New("the backup's destination was deleted")
	}
	dest, err := r.d.Store.GetBackupDestination(ctx, *b.DestinationID)
	if err != nil {
		return job, err
	}
	job.destName = dest.Name
	prefix := ""
	if b.PolicyID != nil {
		p, err := r.d.Store.GetBackupPolicy(ctx, *b.PolicyID)
		if err != nil {
			return job, err
		}
		job.policy, prefix = &p, p.Prefix
	}
	switch {
	case b.DatabaseID != nil:
		db, err := r.d.Store.GetDatabase(ctx, *b.DatabaseID)
		if err != nil {
			return job, err
		}
		job.subject = "database " + db.Name
		if job.target, err = r.d.Targets.Target(ctx, dest); err != nil {
			return job, err
		}
		job.run = func(ctx context.Context) (Result, error) { return r.dumpDatabase(ctx, job.target, db, prefix) }
	case b.ApplicationID != nil:
		app, err := r.d.Store.GetApplication(ctx, *b.ApplicationID)
		if err != nil {
			return job, err
		}
		job.subject = "application " + app.Name
		if job.target, err = r.d.Targets.Target(ctx, dest); err != nil {
			return job, err
		}
		stop := job.policy != nil && job.policy.StopService
		job.run = func(ctx context.Context) (Result, error) { return r.archiveVolumes(ctx, job.target, app, prefix, stop) }
	default:
		return job, errors.New("the backed-up database or application was deleted")
	}
	return job, nil
}

// running returns the container of db's running task, starting a stopped
// database for the duration of the operation: release stops it again.
func (r *Runner) running(ctx context.Context, db store.Database) (id string, release func(), err error) {
	id, err = taskContainer(ctx, r.d.Docker, db.ServiceName)
	if err == nil {
		return id, func() {}, nil
	}
	if !errors.Is(err, ErrNotRunning) || db.DesiredState != store.DatabaseStopped {
		return "", nil, fmt.Errorf("database %s is not running: %w", db.Name, err)
	}
	r.d.Logger.Info("starting a stopped database for a backup operation", "database", db.Name)
	if err := r.d.Services.Start(ctx, db, nil); err != nil {
		return "", nil, fmt.Errorf("starting stopped database %s: %w", db.Name, err)
	}
	release = func() {
		if err := r.d.Services.Stop(context.WithoutCancel(ctx), db, nil); err != nil {
			r.d.Logger.Error("stopping the database again failed", "database", db.Name, "err", err)
		}
	}
	if id, err = taskContainer(ctx, r.d.Docker, db.ServiceName); err != nil {
		release()
		return "", nil, err
	}
	return id, release, nil
}

// dumpDatabase streams the engine's dump out of the database's container,
// through gzip, into the target.
func (r *Runner) dumpDatabase(ctx context.Context, t Target, db store.Database, prefix string) (Result, error) {
	eng, ok := database.Lookup(db.Engine)
	if !ok {
		return Result{}, fmt.Errorf("unknown engine %q", db.Engine)
	}
	cmd, err := eng.Dump(db.Credentials)
	if err != nil {
		return Result{}, err
	}
	cid, release, err := r.running(ctx, db)
	if err != nil {
		return Result{}, err
	}
	defer release()
	if err := testhook.Pause(ctx, "backup.copy"); err != nil {
		return Result{}, err
	}
	now := r.now()
	key := Key(prefix, eng, db.Name, now)
	meta := map[string]string{"content-type": eng.ContentType(), "berth-kind": "database", "berth-engine": string(db.Engine),
		"berth-database": db.Name, "berth-format": eng.DumpExtension}
	res, err := putStream(ctx, t, key, meta, func(w io.Writer) error {
		gz := gzip.NewWriter(w)
		if err := execIn(ctx, r.d.Docker, cid, cmd, nil, gz); err != nil {
			return fmt.Errorf("dump of %s failed: %w", db.Name, err)
		}
		return gz.Close()
	})
	if err != nil {
		return Result{}, err
	}
	m := Manifest{Kind: "database", Engine: db.Engine, Database: db.Name, DBName: db.Credentials.Database,
		SizeBytes: res.SizeBytes, SHA256: res.SHA256, Created: now.UTC()}
	return res, writeManifest(ctx, t, key, m)
}

// applyRetention deletes the policy's oldest successful backups beyond
// its keep_latest (0 keeps all), objects and manifests.
func (r *Runner) applyRetention(ctx context.Context, p store.BackupPolicy, t Target) error {
	if p.KeepLatest <= 0 {
		return nil
	}
	list, err := r.d.Store.ListBackups(ctx, store.BackupFilter{Policy: p.ID, Status: store.BackupSucceeded}, store.MaxPageSize)
	if err != nil {
		return err
	}
	kept := 0
	var errs []error
	for _, b := range list { // newest first
		if b.DeletedAt != nil {
			continue
		}
		if kept < p.KeepLatest {
			kept++
			continue
		}
		for _, key := range []string{b.Key, b.Key + ManifestSuffix} {
			if _, err := t.Delete(ctx, &sdk.DeleteRequest{Key: key}); err != nil && !errors.Is(err, sdk.ErrNotFound) {
				errs = append(errs, fmt.Errorf("delete %s: %w", key, err))
			}
		}
		if err := r.d.Store.MarkBackupDeleted(ctx, b.ID); err != nil {
			errs = append(errs, err)
		}
		r.d.Logger.Info("backup removed by retention", "policy", p.ID, "key", b.Key)
	}
	return errors.Join(errs...)
}
