package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Restores queues and cancels restores of backups into databases and into
// applications' volumes (members and above). The restore itself runs in
// the background (core/restore).
type Restores struct{ s *Services }

// DatabaseRestore names what to restore into a database: a recorded backup
// (BackupID), or an object found on a destination (DestinationID and Key,
// verified against its manifest by the restore).
type DatabaseRestore struct {
	BackupID      *uuid.UUID
	DestinationID *uuid.UUID
	Key           *string
}

// Validate checks that the input names one source.
func (in DatabaseRestore) Validate() error {
	switch {
	case in.BackupID != nil && (in.DestinationID != nil || in.Key != nil):
		return problem.InvalidField("backup_id", "give either backup_id, or destination_id and key, not both")
	case in.BackupID != nil:
		return nil
	case in.DestinationID != nil:
		if k := in.Key; k == nil || *k == "" || len(*k) > 1024 || strings.ContainsRune(*k, 0) ||
			strings.HasPrefix(*k, "/") || strings.Contains(*k, "..") {
			return problem.InvalidField("key", "is required with destination_id: an object key listed on the destination (relative, without .., at most 1024 bytes)")
		}
		return nil
	case in.Key != nil:
		return problem.InvalidField("destination_id", "is required with key")
	}
	return problem.InvalidField("backup_id", "is required (or destination_id and key)")
}

// caller is the authenticated user's id, if any.
func caller(p *store.Principal) *uuid.UUID {
	if p != nil && p != System && p.User.ID != uuid.Nil {
		id := p.User.ID
		return &id
	}
	return nil
}

// restorableBackup loads a recorded backup of org that can be restored
// into what kind names (database or volume).
func (rs *Restores) restorableBackup(ctx context.Context, id, org uuid.UUID, kind string) (store.Backup, error) {
	b, err := rs.s.deps.Store.GetBackup(ctx, id)
	if isNotFound(err) {
		return b, problem.InvalidField("backup_id", "no backup %s", id)
	} else if err != nil {
		return b, err
	}
	bOrg, err := rs.s.BackupOrganization(ctx, b)
	if isNotFound(err) || (err == nil && bOrg != org) {
		return b, problem.InvalidField("backup_id", "no backup %s in this organization", id)
	} else if err != nil {
		return b, err
	}
	switch {
	case b.Kind != kind:
		return b, problem.InvalidField("backup_id", "is a %s backup, not a %s backup", b.Kind, kind)
	case b.DeletedAt != nil:
		return b, problem.InvalidField("backup_id", "backup %s was deleted by retention: nothing to restore", b.ID)
	case b.Status != store.BackupSucceeded:
		return b, problem.InvalidField("backup_id", "backup %s is %s: nothing to restore", b.ID, b.Status)
	case b.DestinationID == nil:
		return b, problem.InvalidField("backup_id", "backup %s: its destination was deleted", b.ID)
	}
	return b, nil
}

// SameFamily reports whether a backup of engine a restores into engine b
// (MySQL and MariaDB dumps are interchangeable).
func SameFamily(a, b database.Engine) bool {
	fam := func(e database.Engine) database.Engine {
		if e == database.MariaDB {
			return database.MySQL
		}
		return e
	}
	return fam(a) == fam(b)
}

// RestoreDatabase queues a restore into target: a backup of the same
// engine family in its organization, or an object on one of its
// destinations (members and above).
func (rs *Restores) RestoreDatabase(ctx context.Context, p *store.Principal, target store.Database, in DatabaseRestore) (store.Restore, error) {
	if err := Authorize(p, target.OrganizationID, store.RoleMember, "database"); err != nil {
		return store.Restore{}, err
	}
	if err := in.Validate(); err != nil {
		return store.Restore{}, err
	}
	st := rs.s.deps.Store
	if in.BackupID != nil {
		b, err := rs.restorableBackup(ctx, *in.BackupID, target.OrganizationID, "database")
		if err != nil {
			return store.Restore{}, err
		}
		if b.DatabaseID != nil {
			src, err := st.GetDatabase(ctx, *b.DatabaseID)
			if err == nil && !SameFamily(src.Engine, target.Engine) {
				return store.Restore{}, problem.InvalidField("backup_id", "is a %s backup; database %s runs %s", src.Engine, target.Name, target.Engine)
			} else if err != nil && !isNotFound(err) {
				return store.Restore{}, err
			}
		}
	} else if err := rs.s.Backups.destinationIn(ctx, target.OrganizationID, *in.DestinationID); err != nil {
		return store.Restore{}, err
	}
	nr := store.NewRestore{OrganizationID: target.OrganizationID, Kind: "database", DatabaseID: &target.ID,
		BackupID: in.BackupID, DestinationID: in.DestinationID, TargetName: target.Name, CreatedBy: caller(p)}
	if in.Key != nil {
		nr.Key = *in.Key
	}
	return rs.start(ctx, nr)
}

// RestoreApplication queues a restore of a volume backup of app into its
// volumes (members and above).
func (rs *Restores) RestoreApplication(ctx context.Context, p *store.Principal, app store.Application, backupID *uuid.UUID) (store.Restore, error) {
	if err := Authorize(p, app.OrganizationID, store.RoleMember, "application"); err != nil {
		return store.Restore{}, err
	}
	if backupID == nil {
		return store.Restore{}, problem.InvalidField("backup_id", "is required (a volume backup of this application)")
	}
	b, err := rs.restorableBackup(ctx, *backupID, app.OrganizationID, "volume")
	if err != nil {
		return store.Restore{}, err
	}
	if b.ApplicationID == nil || *b.ApplicationID != app.ID {
		return store.Restore{}, problem.InvalidField("backup_id", "backup %s is not a backup of application %s's volumes", b.ID, app.Name)
	}
	return rs.start(ctx, store.NewRestore{OrganizationID: app.OrganizationID, Kind: "volume", ApplicationID: &app.ID,
		BackupID: &b.ID, DestinationID: b.DestinationID, Key: b.Key, TargetName: app.Name, CreatedBy: caller(p)})
}

// start records the restore with its job (in one transaction, by the
// restore service).
func (rs *Restores) start(ctx context.Context, nr store.NewRestore) (store.Restore, error) {
	ops, err := rs.s.dataOps()
	if err != nil {
		return store.Restore{}, err
	}
	r, err := ops.StartRestore(ctx, nr)
	if err != nil {
		return r, fmt.Errorf("queue the restore: %w", err)
	}
	return r, nil
}

// Cancel cancels a queued restore or asks a running one to stop; the
// previous data stays (members and above). A restore that already ended
// is a conflict.
func (rs *Restores) Cancel(ctx context.Context, p *store.Principal, r store.Restore) (store.Restore, error) {
	if err := Authorize(p, r.OrganizationID, store.RoleMember, "restore"); err != nil {
		return r, err
	}
	ops, err := rs.s.dataOps()
	if err != nil {
		return r, err
	}
	out, err := ops.CancelRestore(ctx, r)
	if errors.Is(err, ErrRestoreEnded) {
		return out, problem.Conflicting("", err.Error())
	}
	return out, err
}
