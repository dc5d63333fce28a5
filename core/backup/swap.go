package backup

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// swapTimeout bounds the swap itself: once started it runs to its end
// even when the restore is cancelled, so the outcome is always known.
const swapTimeout = 2 * time.Minute

// swapIn loads the object into a fresh database of the server running in
// container cid and swaps it in for the target only once it loaded
// completely. Until the swap the target is untouched; the fresh database
// is dropped after a failure or a cancellation. The swap is one
// transaction (PostgreSQL: two ALTER DATABASE ... RENAME in a DO block) or
// one statement (MySQL/MariaDB: RENAME TABLE of every table); MongoDB
// renames collection by collection. The previous data is dropped after.
func (r *Runner) swapIn(ctx context.Context, cid string, src source, db store.Database, srcDB string, id uuid.UUID, progress func(string)) (err error) {
	eng, _ := database.Lookup(db.Engine)
	c := db.Credentials
	w := database.NewSwap(c.Database, id)
	run := func(ctx context.Context, cmd database.Command, stdin io.Reader, stdout io.Writer) error {
		return execIn(ctx, r.d.Docker, cid, cmd, stdin, stdout)
	}
	dropFresh := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), swapTimeout)
		defer cancel()
		if derr := r.dropRestoreDatabases(cctx, cid, db, w, w.Fresh, w.Old); derr != nil {
			r.d.Logger.Error("dropping a restore's fresh database failed", "database", db.Name, "fresh", w.Fresh, "err", derr)
			err = errors.Join(err, fmt.Errorf("dropping the fresh database %s: %w", w.Fresh, derr))
		}
	}
	if eng.Engine != database.MongoDB {
		create, err := eng.CreateFresh(c, w)
		if err != nil {
			return err
		}
		progress("creating the fresh database " + w.Fresh)
		if err := run(ctx, create, nil, nil); err != nil {
			dropFresh()
			return fmt.Errorf("create the fresh database: %w", err)
		}
	}
	load, err := eng.LoadFresh(c, w, srcDB)
	if err != nil {
		dropFresh()
		return err
	}
	progress("loading into the fresh database " + w.Fresh + " (" + db.Name + " keeps serving its current data)")
	if err := r.streamInto(ctx, src, func(content io.Reader) error { return run(ctx, load, content, nil) }); err != nil {
		dropFresh()
		return fmt.Errorf("%w; %s still has its previous data", err, db.Name)
	}
	if err := ctx.Err(); err != nil {
		dropFresh()
		return fmt.Errorf("%w; %s still has its previous data", err, db.Name)
	}
	// From here on the swap runs to its end: cancelling now would leave its
	// outcome unknown.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), swapTimeout)
	defer cancel()
	progress("swapping the restored data into " + db.Name)
	if err := r.swap(sctx, run, eng, c, w); err != nil {
		dropFresh()
		return fmt.Errorf("swap: %w; %s still has its previous data", err, db.Name)
	}
	progress("dropping the previous data")
	// MySQL/MariaDB leave the fresh schema empty after the swap; for the
	// others it no longer exists.
	if derr := r.dropRestoreDatabases(sctx, cid, db, w, w.Old, w.Fresh); derr != nil {
		// The restore succeeded; the old copy only takes space. Start-up
		// reconciliation drops it later.
		r.d.Logger.Warn("dropping the previous data after a restore failed", "database", db.Name, "old", w.Old, "err", derr)
	}
	return nil
}

// swap makes the loaded fresh database the target.
func (r *Runner) swap(ctx context.Context, run func(context.Context, database.Command, io.Reader, io.Writer) error, eng database.Spec, c database.Credentials, w database.Swap) error {
	cmd, err := eng.SwapIn(c, w)
	if err != nil {
		return err
	}
	switch eng.Engine {
	case database.Postgres:
		return run(ctx, cmd, strings.NewReader(database.SwapScript()), nil)
	case database.MySQL, database.MariaDB:
		var out bytes.Buffer
		if err := run(ctx, eng.MySQLInventory(c, w), nil, &out); err != nil {
			return fmt.Errorf("list tables: %w", err)
		}
		target, fresh, err := parseInventory(&out, w)
		if err != nil {
			return err
		}
		sql := database.MySQLSwapSQL(w, target, fresh)
		if sql == "" {
			return nil
		}
		return run(ctx, cmd, strings.NewReader(sql), nil)
	}
	return run(ctx, cmd, nil, nil)
}

// parseInventory reads MySQLInventory's output: the base tables of the
// target and of the fresh database. Objects RENAME TABLE cannot move
// atomically across schemas (views, triggers, routines, events in the
// dump; triggers on the target's tables) fail the restore before the
// swap, so the previous data stays whole.
func parseInventory(r io.Reader, w database.Swap) (target, fresh []string, err error) {
	var unsupported []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			continue
		}
		schema, kind, name := f[0], f[1], f[2]
		switch {
		case kind == "BASE TABLE" && schema == w.Target:
			target = append(target, name)
		case kind == "BASE TABLE" && schema == w.Fresh:
			fresh = append(fresh, name)
		case schema == w.Fresh || kind == "TRIGGER":
			unsupported = append(unsupported, strings.ToLower(kind)+" "+name)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(unsupported) > 0 {
		return nil, nil, fmt.Errorf("the restore cannot be swapped in atomically: %s (berth swaps base tables only)", strings.Join(unsupported, ", "))
	}
	return target, fresh, nil
}

// dropRestoreDatabases drops databases a restore created (its fresh or old
// database), if they exist.
func (r *Runner) dropRestoreDatabases(ctx context.Context, cid string, db store.Database, w database.Swap, names ...string) error {
	eng, _ := database.Lookup(db.Engine)
	var errs []error
	for _, n := range names {
		cmd, err := eng.Drop(db.Credentials, w, n)
		if err == nil {
			err = execIn(ctx, r.d.Docker, cid, cmd, nil, nil)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("drop %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
