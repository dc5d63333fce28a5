package backup

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// CleanupRestore settles a restore a killed process left unfinished. A
// volume restore's switch is settled from what the service mounts (see
// settleSwitch). For a database restore it drops the fresh and old databases the restore created
// (PostgreSQL, MySQL/MariaDB, MongoDB) or puts back the dump.rdb it kept
// aside (Redis). It returns what the database serves now, for the
// restore's record.
func (r *Runner) CleanupRestore(ctx context.Context, rec store.Restore) (string, error) {
	if rec.Kind == "volume" {
		return r.cleanupVolumeRestore(ctx, rec)
	}
	if rec.Kind != "database" || rec.DatabaseID == nil {
		return "", nil
	}
	db, err := r.d.Store.GetDatabase(ctx, *rec.DatabaseID)
	if err != nil {
		return "", err
	}
	eng, ok := database.Lookup(db.Engine)
	if !ok {
		return "", fmt.Errorf("unknown engine %q", db.Engine)
	}
	if eng.NeedsRestart() {
		had, err := r.HasRedisPrev(ctx, db)
		if err != nil || !had {
			return "", err
		}
		if err := r.RollbackRedis(ctx, db); err != nil {
			return "", err
		}
		return db.Name + " was given its previous data back", nil
	}
	cid, release, err := r.running(ctx, db)
	if err != nil {
		return "", err
	}
	defer release()
	w := database.NewSwap(db.Credentials.Database, rec.ID)
	swapped := false
	switch eng.Engine {
	case database.Postgres:
		var out bytes.Buffer
		if err := execIn(ctx, r.d.Docker, cid, eng.PostgresRestoreDatabases(db.Credentials, w), nil, &out); err != nil {
			return "", err
		}
		swapped = strings.Contains(out.String(), w.Old)
	case database.MySQL, database.MariaDB:
		var out bytes.Buffer
		inv := database.Swap{Target: w.Old, Fresh: w.Fresh, Old: w.Old}
		if err := execIn(ctx, r.d.Docker, cid, eng.MySQLInventory(db.Credentials, inv), nil, &out); err != nil {
			return "", err
		}
		tables := map[string]int{}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			if f := strings.SplitN(sc.Text(), "\t", 3); len(f) == 3 && f[1] == "BASE TABLE" {
				tables[f[0]]++
			}
		}
		swapped = tables[w.Fresh] == 0 && tables[w.Old] > 0
	}
	if err := r.dropRestoreDatabases(ctx, cid, db, w, w.Fresh, w.Old); err != nil {
		return "", err
	}
	if swapped {
		return db.Name + " serves the restored data (the swap had completed)", nil
	}
	return db.Name + " kept its previous data", nil
}
