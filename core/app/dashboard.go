package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/dashboard"
	"github.com/berth-dev/berth/core/store"
)

// RestoreBackup queues a restore of a recorded backup into target for the
// dashboard (dashboard.DatabaseOps); the job verifies it and checks the
// engine.
func (d *databaseOps) RestoreBackup(ctx context.Context, b store.Backup, target store.Database, by *uuid.UUID) (store.Restore, error) {
	return d.restores.Create(ctx, store.NewRestore{OrganizationID: target.OrganizationID, Kind: "database", DatabaseID: &target.ID,
		BackupID: &b.ID, DestinationID: b.DestinationID, Key: b.Key, TargetName: target.Name, CreatedBy: by})
}

// dashboardDatabases returns the dashboard's view of the database services,
// nil (an untyped nil interface) when the server runs without Docker.
func (s *Server) dashboardDatabases() dashboard.DatabaseOps {
	if s.databases == nil {
		return nil
	}
	return s.databases
}
