package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/store"
)

// RedisPrevFile is where a Redis restore keeps the previous dump.rdb
// (relative to the data directory) until the new one loaded.
const RedisPrevFile = "dump.rdb.berth-prev"

// emptyRDB is an RDB file of an empty dataset (version 9, no checksum):
// what a rollback writes when there was no dump.rdb before the restore.
var emptyRDB = []byte("REDIS0009\xff\x00\x00\x00\x00\x00\x00\x00\x00")

// rollbackTimeout bounds putting the previous Redis data back.
const rollbackTimeout = 5 * time.Minute

// restoreRedis replaces dump.rdb in the database's volume while the
// server is stopped (berth runs Redis without an append-only file, which
// would take precedence). The previous dump.rdb is copied aside first; the
// server is then started to load the new one, and if writing or loading
// fails (or the restore is cancelled) the previous file is put back and
// the server started on it. A database that should be stopped is stopped
// again afterwards.
func (r *Runner) restoreRedis(ctx context.Context, src source, db store.Database, progress func(string)) error {
	eng, _ := database.Lookup(db.Engine)
	progress("stopping " + db.Name)
	if err := r.d.Services.Stop(ctx, db, nil); err != nil {
		return errors.Join(err, r.startIfWanted(ctx, db))
	}
	image := eng.ImageRef(db.Image, db.Version)
	hadPrev := false
	err := r.withVolumes(ctx, image, map[string]string{db.VolumeName: eng.DataPath}, func(cid string) error {
		progress("keeping the current " + database.RedisDumpFile + " aside")
		var err error
		if hadPrev, err = copyInContainer(ctx, r.d.Docker, cid, eng.DataPath, database.RedisDumpFile, RedisPrevFile); err != nil {
			return fmt.Errorf("keep the current data aside: %w", err)
		}
		if !hadPrev {
			if err := putFile(ctx, r.d.Docker, cid, eng.DataPath, RedisPrevFile, emptyRDB); err != nil {
				return fmt.Errorf("keep the current data aside: %w", err)
			}
		}
		uid, gid, err := ownerOf(ctx, r.d.Docker, cid, eng.DataPath)
		if err != nil {
			return err
		}
		progress("writing the restored " + database.RedisDumpFile)
		return r.streamInto(ctx, src, func(content io.Reader) error {
			pr, pw := io.Pipe()
			go func() {
				tw := tar.NewWriter(pw)
				err := tw.WriteHeader(&tar.Header{Name: database.RedisDumpFile, Mode: 0o644, Size: src.v.Uncompressed,
					Uid: uid, Gid: gid, Typeflag: tar.TypeReg})
				if err == nil {
					_, err = io.CopyN(tw, content, src.v.Uncompressed)
				}
				if err == nil {
					err = tw.Close()
				}
				pw.CloseWithError(err)
			}()
			err := r.d.Docker.CopyToContainer(ctx, cid, eng.DataPath, pr, container.CopyToContainerOptions{})
			pr.CloseWithError(err)
			return err
		})
	})
	if err == nil {
		progress("starting " + db.Name + " on the restored data")
		err = r.d.Services.Start(ctx, db, nil)
		if err == nil {
			err = ctx.Err()
		}
	}
	if err != nil {
		progress("putting the previous data back")
		if rerr := r.RollbackRedis(context.WithoutCancel(ctx), db); rerr != nil {
			return errors.Join(err, fmt.Errorf("putting the previous data back failed: %w", rerr))
		}
		return fmt.Errorf("%w; %s still has its previous data", err, db.Name)
	}
	r.dropRedisPrev(ctx, db)
	if db.DesiredState == store.DatabaseStopped {
		return r.d.Services.Stop(context.WithoutCancel(ctx), db, nil)
	}
	return nil
}

// RollbackRedis puts back the dump.rdb a restore kept aside, if any, with
// the server stopped, then starts it when it should run. It is a no-op
// when nothing was kept aside.
func (r *Runner) RollbackRedis(ctx context.Context, db store.Database) error {
	ctx, cancel := context.WithTimeout(ctx, rollbackTimeout)
	defer cancel()
	eng, _ := database.Lookup(db.Engine)
	image := eng.ImageRef(db.Image, db.Version)
	if err := r.d.Services.Stop(ctx, db, nil); err != nil {
		return err
	}
	had := false
	err := r.withVolumes(ctx, image, map[string]string{db.VolumeName: eng.DataPath}, func(cid string) error {
		var err error
		had, err = copyInContainer(ctx, r.d.Docker, cid, eng.DataPath, RedisPrevFile, database.RedisDumpFile)
		return err
	})
	if err != nil {
		return errors.Join(err, r.startIfWanted(ctx, db))
	}
	if err := r.startIfWanted(ctx, db); err != nil {
		return err
	}
	if had && db.DesiredState != store.DatabaseStopped {
		r.dropRedisPrev(ctx, db)
	}
	return nil
}

// HasRedisPrev reports whether a restore left the previous dump.rdb aside
// in db's volume (it was interrupted before it finished).
func (r *Runner) HasRedisPrev(ctx context.Context, db store.Database) (bool, error) {
	eng, _ := database.Lookup(db.Engine)
	found := false
	err := r.withVolumes(ctx, eng.ImageRef(db.Image, db.Version), map[string]string{db.VolumeName: eng.DataPath}, func(cid string) error {
		rc, _, err := r.d.Docker.CopyFromContainer(ctx, cid, eng.DataPath+"/"+RedisPrevFile)
		if cerrdefs.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return rc.Close()
	})
	return found, err
}

func (r *Runner) startIfWanted(ctx context.Context, db store.Database) error {
	if db.DesiredState == store.DatabaseStopped {
		return nil
	}
	return r.d.Services.Start(context.WithoutCancel(ctx), db, nil)
}

// dropRedisPrev removes the kept-aside file through the running server's
// container (the copy API cannot delete).
func (r *Runner) dropRedisPrev(ctx context.Context, db store.Database) {
	eng, _ := database.Lookup(db.Engine)
	cid, err := taskContainer(ctx, r.d.Docker, db.ServiceName)
	if err == nil {
		err = execIn(ctx, r.d.Docker, cid, database.Command{Argv: []string{"rm", "-f", eng.DataPath + "/" + RedisPrevFile}}, nil, nil)
	}
	if err != nil {
		r.d.Logger.Warn("removing the previous Redis data after a restore failed", "database", db.Name, "err", err)
	}
}

// copyInContainer copies file from to file to in directory dir of a
// container through Docker's copy API; false when from does not exist.
func copyInContainer(ctx context.Context, d Docker, cid, dir, from, to string) (bool, error) {
	rc, _, err := d.CopyFromContainer(ctx, cid, dir+"/"+from)
	if cerrdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", from, err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	h, err := tr.Next()
	if err != nil {
		return false, fmt.Errorf("read %s: %w", from, err)
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		h.Name = to
		err := tw.WriteHeader(h)
		if err == nil {
			_, err = io.Copy(tw, tr)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	err = d.CopyToContainer(ctx, cid, dir, pr, container.CopyToContainerOptions{})
	pr.CloseWithError(err)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", to, err)
	}
	return true, nil
}

// putFile writes a small file into directory dir of a container, owned
// like the directory.
func putFile(ctx context.Context, d Docker, cid, dir, name string, data []byte) error {
	uid, gid, err := ownerOf(ctx, d, cid, dir)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Uid: uid, Gid: gid, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return d.CopyToContainer(ctx, cid, dir, &buf, container.CopyToContainerOptions{})
}
