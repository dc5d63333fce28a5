package schedule

import (
	"context"
	"time"

	"github.com/berth-dev/berth/core/eventscope"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// missedEvent describes the runs of policy p missed while berth was down
// (recorded as backup b): backup.missed for a database policy. A volume
// policy has no "missed" type of its own: its missed runs are
// volume_backup.failed, so that volume backups never surface as database
// ones.
func missedEvent(ctx context.Context, st *store.Store, p store.BackupPolicy, b store.Backup, missed int, last time.Time, msg string, now time.Time) sdk.Event {
	ev := sdk.Event{ID: uuid.NewString(), Type: sdk.EventBackupMissed, Time: now,
		Severity: sdk.SeverityWarning, Title: "Scheduled backup missed", Message: msg, OrganizationID: p.OrganizationID.String(),
		Backup: &sdk.BackupDetails{BackupID: b.ID.String(), Kind: sdk.BackupKindDatabase, Error: msg,
			Schedule: p.Schedule, MissedAt: last.UTC(), MissedRuns: missed}}
	switch {
	case p.DatabaseID != nil:
		_ = eventscope.DatabaseID(ctx, st, *p.DatabaseID, &ev)
		if d, err := st.GetDatabase(ctx, *p.DatabaseID); err == nil {
			ev.Backup.Database = d.Name
		}
	case p.ApplicationID != nil:
		ev.Type, ev.Title = sdk.EventVolumeBackupFail, "Scheduled volume backup missed"
		ev.Backup.Kind = sdk.BackupKindVolumes
		_ = eventscope.ApplicationID(ctx, st, *p.ApplicationID, &ev)
		ev.Backup.App = ev.App
	}
	return ev
}
