package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/berth-dev/berth/core/eventscope"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// volumeKind is store.Backup.Kind of a volume backup.
const volumeKind = "volume"

// backupEvent builds the event of a finished backup: backup.* for a
// database, volume_backup.* for an application's volumes.
func backupEvent(ok bool, b store.Backup, subject, target string, res Result, took time.Duration, errMsg string) sdk.Event {
	ev := sdk.Event{ID: uuid.NewString(), Time: time.Now(), Backup: &sdk.BackupDetails{BackupID: b.ID.String(),
		Kind: sdk.BackupKindDatabase, Database: subject, Target: target, Key: res.Key, SizeBytes: res.SizeBytes, Duration: took, Error: errMsg}}
	okType, failType := sdk.EventBackupSucceeded, sdk.EventBackupFailed
	if b.Kind == volumeKind {
		okType, failType = sdk.EventVolumeBackupOK, sdk.EventVolumeBackupFail
		ev.Backup.Kind, ev.Backup.Database, ev.Backup.App = sdk.BackupKindVolumes, "", subject
	}
	if ok {
		ev.Type, ev.Severity = okType, sdk.SeverityInfo
		ev.Title = "Backup of " + subject + " succeeded"
		ev.Message = fmt.Sprintf("%s stored as %s on %s (%d bytes) in %s.", subject, res.Key, target, res.SizeBytes, took.Round(time.Millisecond))
	} else {
		ev.Type, ev.Severity = failType, sdk.SeverityError
		ev.Title = "Backup of " + subject + " failed"
		ev.Message = errMsg
	}
	return ev
}

// interruptedEvent is the failure event of a backup berth settled as
// interrupted.
func interruptedEvent(b store.Backup, reason string) sdk.Event {
	ev := sdk.Event{Type: sdk.EventBackupFailed, Severity: sdk.SeverityError, Title: "Backup failed", Message: reason,
		Backup: &sdk.BackupDetails{BackupID: b.ID.String(), Kind: sdk.BackupKindDatabase, Error: reason}}
	if b.Kind == volumeKind {
		ev.Type, ev.Backup.Kind = sdk.EventVolumeBackupFail, sdk.BackupKindVolumes
	}
	return ev
}

// scope fills in the organization, project and environment of the
// database or application a backup concerns (best effort: an event is
// never held back for it).
func (r *Runner) scope(ctx context.Context, b store.Backup, ev *sdk.Event) {
	switch {
	case b.DatabaseID != nil:
		_ = eventscope.DatabaseID(ctx, r.d.Store, *b.DatabaseID, ev)
	case b.ApplicationID != nil:
		_ = eventscope.ApplicationID(ctx, r.d.Store, *b.ApplicationID, ev)
	}
	if ev.Backup != nil && ev.Backup.Kind == sdk.BackupKindVolumes && ev.App != "" {
		ev.Backup.App = ev.App
	}
}
