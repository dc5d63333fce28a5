package backup

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/testhook"
	"github.com/berth-dev/berth/sdk"
)

// volumesRoot is where a helper container mounts the volumes it copies;
// archives hold one top-level directory per volume under it.
const volumesRoot = "/berth-volumes"

// ServiceInspector reads a service's spec (its current image).
type ServiceInspector interface {
	ServiceInspectWithRaw(ctx context.Context, serviceID string, opts swarm.ServiceInspectOptions) (swarm.Service, []byte, error)
}

// namedVolumes lists an application's named volumes, sorted.
func namedVolumes(app store.Application) []string {
	var out []string
	for _, m := range app.Mounts {
		if m.Type == "volume" && m.Source != "" {
			out = append(out, m.Source)
		}
	}
	sort.Strings(out)
	return out
}

// currentImage is the image the application's service runs now (local:
// built or loaded by berth, so the helper container needs no pull).
func (r *Runner) currentImage(ctx context.Context, app store.Application) (string, error) {
	si, ok := r.d.Docker.(ServiceInspector)
	if !ok {
		return "", errors.New("volume backups need the Docker service API")
	}
	svc, _, err := si.ServiceInspectWithRaw(ctx, app.ServiceName, swarm.ServiceInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("application %s has no service (deploy it first): %w", app.Name, err)
	}
	img := svc.Spec.TaskTemplate.ContainerSpec.Image
	if i := strings.Index(img, "@"); i > 0 {
		img = img[:i]
	}
	return img, nil
}

// archiveVolumes streams a tar of the application's named volumes, through
// gzip, into the target, optionally with the service scaled to zero during
// the copy.
func (r *Runner) archiveVolumes(ctx context.Context, t Target, app store.Application, prefix string, stop bool) (Result, error) {
	vols := namedVolumes(app)
	if len(vols) == 0 {
		return Result{}, fmt.Errorf("application %s has no named volume", app.Name)
	}
	image, err := r.currentImage(ctx, app)
	if err != nil {
		return Result{}, err
	}
	mounts := map[string]string{}
	for _, v := range vols {
		mounts[v] = volumesRoot + "/" + v
	}
	now := r.now()
	key := joinKey(prefix, "volumes", app.Name, now.UTC().Format("2006-01-02T15-04-05.000Z")+".tar.gz")
	var res Result
	copyVolumes := func() error {
		if err := testhook.Pause(ctx, "backup.copy"); err != nil {
			return err
		}
		return r.withVolumes(ctx, image, mounts, func(cid string) error {
			res, err = putStream(ctx, t, key, map[string]string{"content-type": "application/gzip", "berth-kind": "volume",
				"berth-application": app.Name, "berth-volumes": strings.Join(vols, ",")}, func(w io.Writer) error {
				rc, _, err := r.d.Docker.CopyFromContainer(ctx, cid, volumesRoot)
				if err != nil {
					return fmt.Errorf("copy volumes: %w", err)
				}
				defer rc.Close()
				gz := gzip.NewWriter(w)
				if _, err := io.Copy(gz, rc); err != nil {
					return fmt.Errorf("copy volumes: %w", err)
				}
				return gz.Close()
			})
			return err
		})
	}
	if stop {
		say := func(line string) { r.d.Logger.Info(line, "app", app.Name) }
		err = r.whileStopped(ctx, app, say, copyVolumes)
	} else {
		err = copyVolumes()
	}
	if err != nil {
		return Result{}, err
	}
	return res, writeManifest(ctx, t, key, Manifest{Kind: "volume", Volume: strings.Join(vols, ","),
		SizeBytes: res.SizeBytes, SHA256: res.SHA256, Created: now.UTC()})
}

// RestoreVolumes verifies a volume backup, then writes its files back into
// the application's volumes (files in the archive replace those with the
// same path; others stay), with the service scaled to zero meanwhile.
func (r *Runner) RestoreVolumes(ctx context.Context, backupID uuid.UUID, progress func(string)) error {
	if progress == nil {
		progress = func(string) {}
	}
	b, err := r.d.Store.GetBackup(ctx, backupID)
	if err != nil {
		return err
	}
	if b.Kind != "volume" || b.ApplicationID == nil || b.DestinationID == nil || b.Status != store.BackupSucceeded || b.DeletedAt != nil {
		return fmt.Errorf("backup %s is not a restorable volume backup", b.ID)
	}
	app, err := r.d.Store.GetApplication(ctx, *b.ApplicationID)
	if err != nil {
		return err
	}
	dest, err := r.d.Store.GetBackupDestination(ctx, *b.DestinationID)
	if err != nil {
		return err
	}
	t, err := r.d.Targets.Target(ctx, dest)
	if err != nil {
		return err
	}
	progress("verifying " + b.Key)
	v, err := Verify(ctx, t, b.Key, b.SizeBytes, b.SHA256, nil)
	if err != nil {
		return err
	}
	image, err := r.currentImage(ctx, app)
	if err != nil {
		return err
	}
	mounts := map[string]string{}
	for _, vol := range namedVolumes(app) {
		mounts[vol] = volumesRoot + "/" + vol
	}
	return r.whileStopped(ctx, app, progress, func() error {
		progress("restoring volumes of " + app.Name)
		return r.withVolumes(ctx, image, mounts, func(cid string) error {
			return r.streamInto(ctx, source{t: t, key: b.Key, v: v}, func(content io.Reader) error {
				return r.d.Docker.CopyToContainer(ctx, cid, "/", content, container.CopyToContainerOptions{})
			})
		})
	})
}

// restartTimeout bounds how long a service stopped for a volume copy may
// take to run again.
const restartTimeout = 3 * time.Minute

// whileStopped scales the application's service to zero, runs fn, and
// scales it back to the replicas it had, also when fn fails, the stop
// itself fails half-way, or ctx is cancelled (and, through Recover, when
// berth is killed meanwhile). A service that was already
// at zero stays there. Failing to start it again fails the operation: the
// application is down and the user must hear about it.
func (r *Runner) whileStopped(ctx context.Context, app store.Application, say func(string), fn func() error) error {
	if r.d.Scaler == nil {
		return errors.New("stopping the application during the copy needs a service scaler")
	}
	say("stopping " + app.Name + " for the copy")
	// The previous replicas are recorded on the service with the scale to
	// zero: a berth killed during the copy scales it back at start-up.
	prev, err := r.d.Scaler.StopForCopy(ctx, app.ServiceName)
	restart := func() error {
		if prev == 0 {
			return nil
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restartTimeout)
		defer cancel()
		say(fmt.Sprintf("starting %s again (%d replicas)", app.Name, prev))
		if _, err := r.d.Scaler.Scale(rctx, app.ServiceName, prev); err != nil {
			r.d.Logger.Error("starting the application again after a volume copy failed", "app", app.Name, "err", err)
			return fmt.Errorf("starting %s again after the copy: %w", app.Name, err)
		}
		return nil
	}
	if err != nil {
		return errors.Join(fmt.Errorf("stop %s for the copy: %w", app.Name, err), restart())
	}
	return errors.Join(fn(), restart())
}

// ListObjects lists backup objects (manifests excluded) on a destination
// under prefix, so objects not recorded by this berth can be restored.
func ListObjects(ctx context.Context, t Target, prefix string) ([]sdk.ObjectInfo, error) {
	resp, err := t.List(ctx, &sdk.ListRequest{Prefix: prefix})
	if err != nil {
		return nil, err
	}
	var out []sdk.ObjectInfo
	for _, o := range resp.Objects {
		if !strings.HasSuffix(o.Key, ManifestSuffix) {
			out = append(out, o)
		}
	}
	return out, nil
}
