package app

import (
	"context"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/dashboard"
	"github.com/berth-dev/berth/core/store"
)

// RestoreBackup restores a recorded backup into target for the dashboard
// (dashboard.DatabaseOps); the runner verifies it and checks the engine.
func (d *databaseOps) RestoreBackup(ctx context.Context, b store.Backup, target store.Database) error {
	return d.runner.Restore(ctx, backup.RestoreRequest{BackupID: b.ID, DatabaseID: target.ID}, nil)
}

// dashboardDatabases returns the dashboard's view of the database services,
// nil (an untyped nil interface) when the server runs without Docker.
func (s *Server) dashboardDatabases() dashboard.DatabaseOps {
	if s.databases == nil {
		return nil
	}
	return s.databases
}
