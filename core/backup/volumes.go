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

// namedVolumes lists the sources of an application's named volume mounts,
// sorted. Archives hold one directory per source (the Docker volume it maps
// to may change with every restore).
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

// dockerVolume is the Docker volume the application's service mounts for
// source.
func dockerVolume(app store.Application, source string) string {
	if v := app.Volumes[source]; v != "" {
		return v
	}
	return store.DefaultVolumeName(app, source)
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
		mounts[dockerVolume(app, v)] = volumesRoot + "/" + v
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

// RestoreVolumes verifies a volume backup, then restores it into the
// application without touching the volumes it runs on until the restored
// data is complete: the archive is loaded into fresh volumes (one per
// mount source), which are checked against the archive (every entry and
// every byte of its files), the switch is recorded, and the service is
// switched to them in ONE rolling update (start-first, health-gated, like
// a deploy). Only then are the previous volumes removed (kept while
// another application still maps them). A failure or a cancellation before
// the switch, or a switch Swarm rolls back, leaves the application on its
// previous volumes, untouched, and removes the fresh ones. The restored
// volumes hold exactly the archive's files.
func (r *Runner) RestoreVolumes(ctx context.Context, req VolumeRestoreRequest, progress func(string)) (err error) {
	if progress == nil {
		progress = func(string) {}
	}
	if req.ID == uuid.Nil {
		req.ID = uuid.New()
	}
	vd, err := r.volumeDocker()
	if err != nil {
		return err
	}
	b, err := r.d.Store.GetBackup(ctx, req.BackupID)
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
	sources := namedVolumes(app)
	if len(sources) == 0 {
		return fmt.Errorf("application %s has no named volume", app.Name)
	}
	if err := r.settlePending(ctx, app); err != nil {
		return fmt.Errorf("an earlier restore of %s is not settled: %w", app.Name, err)
	}
	if app, err = r.d.Store.GetApplication(ctx, app.ID); err != nil {
		return err
	}
	if err := r.noRelease(ctx, app); err != nil {
		return err
	}
	image, err := r.currentImage(ctx, app)
	if err != nil {
		return err
	}
	fresh := map[string]string{}
	mounts := map[string]string{}
	for _, src := range sources {
		fresh[src] = store.RestoreVolumeName(app, src, req.ID)
		mounts[fresh[src]] = volumesRoot + "/" + src
	}
	kept := fmt.Sprintf("; %s keeps running on its previous volumes, untouched", app.Name)
	defer func() {
		if err != nil && !errors.Is(err, errSwitched) {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), switchTimeout)
			defer cancel()
			if rerr := r.removeRestoreVolumes(cctx, vd, req.ID); rerr != nil {
				r.d.Logger.Error("removing a restore's fresh volumes failed", "app", app.Name, "err", rerr)
				err = errors.Join(err, fmt.Errorf("removing the fresh volumes: %w", rerr))
			}
		}
	}()
	progress(fmt.Sprintf("creating fresh volumes for %s: %s", app.Name, strings.Join(sortedValues(fresh), ", ")))
	if err := r.createFresh(ctx, vd, app, req.ID, fresh); err != nil {
		return fmt.Errorf("%w%s", err, kept)
	}
	progress("loading " + b.Key + " into the fresh volumes (" + app.Name + " keeps serving its current data)")
	err = r.withVolumes(ctx, image, mounts, func(cid string) error {
		var want volumeTally
		err := r.streamInto(ctx, source{t: t, key: b.Key, v: v}, func(content io.Reader) error {
			pr, pw := io.Pipe()
			tallied := make(chan error, 1)
			go func() {
				var terr error
				want, terr = tallyTar(pr, sources)
				_, _ = io.Copy(io.Discard, pr)
				tallied <- terr
			}()
			cerr := r.d.Docker.CopyToContainer(ctx, cid, "/", io.TeeReader(content, pw), container.CopyToContainerOptions{})
			pw.Close()
			return errors.Join(cerr, <-tallied)
		})
		if err != nil {
			return err
		}
		progress("checking the fresh volumes against the archive")
		return r.checkLoaded(ctx, cid, sources, want)
	})
	if err != nil {
		return fmt.Errorf("%w%s", err, kept)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w%s", err, kept)
	}
	if err := testhook.Pause(ctx, "restore.switch"); err != nil {
		return fmt.Errorf("%w%s", err, kept)
	}
	if err := r.noRelease(ctx, app); err != nil {
		return fmt.Errorf("%w%s", err, kept)
	}
	// From here on the switch runs to its end: cancelling now would leave
	// its outcome unknown.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), switchTimeout)
	defer cancel()
	if err := r.d.Store.BeginVolumeSwitch(sctx, app, req.ID, fresh); err != nil {
		return fmt.Errorf("%w%s", err, kept)
	}
	swap := map[string]string{}
	for src, vol := range fresh {
		swap[app.Volumes[src]] = vol
	}
	progress("switching " + app.Name + " to the restored volumes")
	serr := r.d.Switcher.SwitchVolumes(sctx, app.ServiceName, swap, progress)
	if err := testhook.Pause(ctx, "restore.switched"); err != nil {
		serr = errors.Join(serr, err) // settled below all the same
	}
	switched, err := r.settleSwitch(sctx, app, req.ID)
	switch {
	case switched && serr == nil && err == nil:
		progress("previous volumes removed")
		return nil
	case switched:
		// The restore took effect: the fresh volumes must stay.
		return fmt.Errorf("%w: %w", errSwitched, errors.Join(serr, err))
	case serr != nil:
		return fmt.Errorf("switch: %w%s", errors.Join(serr, err), kept)
	case err != nil:
		return fmt.Errorf("settling the switch: %w%s", err, kept)
	}
	return fmt.Errorf("the service was not switched to the restored volumes%s", kept)
}

// errSwitched marks an error after the service was switched to the restored
// volumes: the restore took effect, something after it failed.
var errSwitched = errors.New("the application runs the restored volumes, but")

// noRelease fails while a deployment of the application runs: its release
// would mount the volumes it loaded before the switch.
func (r *Runner) noRelease(ctx context.Context, app store.Application) error {
	running, err := r.d.Store.DeploymentRunning(ctx, app.ID)
	if err != nil {
		return err
	}
	if running {
		return fmt.Errorf("a deployment of %s is running; restore its volumes after it ended", app.Name)
	}
	return nil
}

// checkLoaded compares what the fresh volumes mounted in container cid hold
// with what the archive held (want): the same number of entries under each
// source and the same bytes of regular files.
func (r *Runner) checkLoaded(ctx context.Context, cid string, sources []string, want volumeTally) error {
	rc, _, err := r.d.Docker.CopyFromContainer(ctx, cid, volumesRoot)
	if err != nil {
		return fmt.Errorf("read the fresh volumes back: %w", err)
	}
	defer rc.Close()
	got, err := tallyTar(rc, sources)
	if err != nil {
		return fmt.Errorf("read the fresh volumes back: %w", err)
	}
	for _, src := range sources {
		if w, g := want[src], got[src]; w[0] > 0 && w != g {
			return fmt.Errorf("%w: the fresh volume for %s holds %d entries and %d bytes, the archive %d and %d",
				ErrVerification, src, g[0], g[1], w[0], w[1])
		}
	}
	return nil
}

// sortedValues returns m's values in the order of its sorted keys.
func sortedValues(m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
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
