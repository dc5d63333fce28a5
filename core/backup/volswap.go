package backup

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// Labels of the fresh volumes a volume restore creates.
const (
	// labelRestoreID names the restore that created the volume: start-up
	// reconciliation removes such volumes no application maps.
	labelRestoreID = "dev.berth.restore-id"
	// labelVolumeSource is the application's mount source the volume is for.
	labelVolumeSource = "dev.berth.volume-source"
)

// switchTimeout bounds the switch of a service to restored volumes (and its
// rollback): once started it runs to its end even when the restore is
// cancelled, so its outcome is known.
const switchTimeout = 10 * time.Minute

// oldVolumeWait bounds how long the removal of a previous volume waits for
// the old tasks' containers to stop.
const oldVolumeWait = 2 * time.Minute

// settleWait bounds the wait for a service update or rollback in progress
// before a switch is settled from the service's spec.
const settleWait = 3 * time.Minute

// VolumeSwitcher switches an application's service to other volumes in one
// rolling update (*swarm.Manager implements it).
type VolumeSwitcher interface {
	// SwitchVolumes replaces each volume mount's source by swap[source] in
	// one update and waits until it runs, rolling back when it fails.
	SwitchVolumes(ctx context.Context, service string, swap map[string]string, progress func(string)) error
	// MountedVolumes lists the named volumes the service's spec mounts
	// once no update or rollback is in progress (swarm.ErrNoService when
	// it does not exist).
	MountedVolumes(ctx context.Context, service string) ([]string, error)
}

// VolumeDocker creates, lists and removes Docker volumes; *client.Client
// implements it.
type VolumeDocker interface {
	VolumeCreate(ctx context.Context, options volume.CreateOptions) (volume.Volume, error)
	VolumeList(ctx context.Context, options volume.ListOptions) (volume.ListResponse, error)
	VolumeRemove(ctx context.Context, volumeID string, force bool) error
}

// VolumeRestoreRequest names a volume backup to restore into its
// application.
type VolumeRestoreRequest struct {
	// ID identifies the restore (its record): the fresh volumes are named
	// and labelled after it, so those a killed process left can be found.
	// Zero picks a random one.
	ID uuid.UUID
	// BackupID is a succeeded volume backup.
	BackupID uuid.UUID
}

// volumeDocker returns the Docker volume API, or an error saying it is
// missing.
func (r *Runner) volumeDocker() (VolumeDocker, error) {
	vd, ok := r.d.Docker.(VolumeDocker)
	if !ok || r.d.Switcher == nil {
		return nil, errors.New("volume restores need the Docker volume API and a volume switcher")
	}
	return vd, nil
}

// createFresh creates the fresh volumes of a restore (source -> volume),
// labelled with the application and the restore.
func (r *Runner) createFresh(ctx context.Context, vd VolumeDocker, app store.Application, id uuid.UUID, fresh map[string]string) error {
	for _, src := range sortedKeys(fresh) {
		_, err := vd.VolumeCreate(ctx, volume.CreateOptions{Name: fresh[src], Labels: map[string]string{
			swarm.LabelManaged: "true", swarm.LabelAppID: app.ID.String(), labelRestoreID: id.String(), labelVolumeSource: src}})
		if err != nil {
			return fmt.Errorf("create the fresh volume %s: %w", fresh[src], err)
		}
	}
	return nil
}

// removeRestoreVolumes removes the fresh volumes restore id created that no
// application maps (all of them after a failure before the switch).
func (r *Runner) removeRestoreVolumes(ctx context.Context, vd VolumeDocker, id uuid.UUID) error {
	resp, err := vd.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", labelRestoreID+"="+id.String()))})
	if err != nil {
		return fmt.Errorf("list the volumes of restore %s: %w", id, err)
	}
	var errs []error
	for _, v := range resp.Volumes {
		users, err := r.d.Store.VolumeMappedBy(ctx, v.Name, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(users) > 0 {
			continue
		}
		if err := swarm.RemoveVolume(ctx, vd, v.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeOldVolume removes a volume the application's service no longer
// mounts after a switch, unless another application maps it (a volume
// shared before volumes were per application): first the stopped task
// containers of the service that still reference it, then the volume.
func (r *Runner) removeOldVolume(ctx context.Context, vd VolumeDocker, app store.Application, name string) (bool, error) {
	users, err := r.d.Store.VolumeMappedBy(ctx, name, []uuid.UUID{app.ID})
	if err != nil {
		return false, err
	}
	if len(users) > 0 {
		r.d.Logger.Info("previous volume kept: another application mounts it", "app", app.Name, "volume", name)
		return false, nil
	}
	// The old tasks' containers stop (and stay, as task history) after the
	// switch: remove the stopped ones until the volume is free.
	deadline := time.Now().Add(oldVolumeWait)
	for {
		cs, err := r.d.Docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
			filters.Arg("volume", name), filters.Arg("label", "com.docker.swarm.service.name="+app.ServiceName))})
		if err != nil {
			return false, fmt.Errorf("list the containers of %s using %s: %w", app.Name, name, err)
		}
		for _, c := range cs {
			if c.State == "running" {
				continue // still stopping
			}
			if err := r.d.Docker.ContainerRemove(ctx, c.ID, container.RemoveOptions{}); err != nil {
				r.d.Logger.Warn("removing a stopped task container failed", "container", c.ID, "err", err)
			}
		}
		err = vd.VolumeRemove(ctx, name, false)
		if err == nil || cerrdefs.IsNotFound(err) {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("remove volume %s: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("remove volume %s: %w (last error: %w)", name, ctx.Err(), err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// settleSwitch settles restore id's switch of the application's volumes
// from what its service mounts: when it mounts the fresh volumes, the
// switch is recorded as done and the previous volumes are removed;
// otherwise (the switch failed, was rolled back or never happened) the
// application is mapped back to its previous volumes and the fresh ones
// are removed. It reports whether the service runs the restored volumes;
// with nothing pending for the restore it reports false.
func (r *Runner) settleSwitch(ctx context.Context, app store.Application, id uuid.UUID) (bool, error) {
	vd, err := r.volumeDocker()
	if err != nil {
		return false, err
	}
	all, err := r.d.Store.PendingVolumeSwitches(ctx, app.ID)
	if err != nil {
		return false, err
	}
	var rows []store.AppVolume
	for _, p := range all {
		if p.RestoreID != nil && *p.RestoreID == id {
			rows = append(rows, p)
		}
	}
	if len(rows) == 0 {
		return false, r.removeRestoreVolumes(ctx, vd, id)
	}
	// An update or rollback in progress is waited for, within bounds (at
	// start-up nothing else may wait on it for long).
	mctx, cancel := context.WithTimeout(ctx, settleWait)
	mounted, err := r.d.Switcher.MountedVolumes(mctx, app.ServiceName)
	cancel()
	if err != nil && !errors.Is(err, swarm.ErrNoService) {
		return false, fmt.Errorf("what %s mounts: %w", app.Name, err)
	}
	switched := err == nil
	for _, p := range rows {
		switched = switched && slices.Contains(mounted, p.Volume)
	}
	if !switched {
		if err := r.d.Store.EndVolumeSwitch(ctx, app.ID, id, false); err != nil {
			return false, err
		}
		return false, r.removeRestoreVolumes(ctx, vd, id)
	}
	var errs []error
	for _, p := range rows {
		if slices.Contains(mounted, p.PreviousVolume) {
			continue // another mount still uses it
		}
		if _, err := r.removeOldVolume(ctx, vd, app, p.PreviousVolume); err != nil {
			errs = append(errs, fmt.Errorf("remove the previous volume %s: %w", p.PreviousVolume, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Kept pending: the next restore or start-up removes them.
		return true, err
	}
	return true, r.d.Store.EndVolumeSwitch(ctx, app.ID, id, true)
}

// settlePending settles the application's switches a failed or killed
// restore left pending, oldest first.
func (r *Runner) settlePending(ctx context.Context, app store.Application) error {
	pend, err := r.d.Store.PendingVolumeSwitches(ctx, app.ID)
	if err != nil {
		return err
	}
	seen := map[uuid.UUID]bool{}
	var errs []error
	for _, p := range pend {
		if p.RestoreID == nil || seen[*p.RestoreID] {
			continue
		}
		seen[*p.RestoreID] = true
		if _, err := r.settleSwitch(ctx, app, *p.RestoreID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ReconcileVolumes settles, at start-up, what killed volume restores left
// (call it before the queue starts, when no restore runs): switches
// recorded but not settled are settled from what the service mounts (see
// settleSwitch: a switch Swarm completed is kept, one it did not is undone),
// and fresh volumes of restores that never switched are removed (those of
// this berth's applications only: Docker may be shared with another
// instance).
func (r *Runner) ReconcileVolumes(ctx context.Context) error {
	vd, err := r.volumeDocker()
	if err != nil {
		return nil // no Docker: nothing berth could have created
	}
	pend, err := r.d.Store.PendingVolumeSwitches(ctx, uuid.Nil)
	if err != nil {
		return err
	}
	var errs []error
	done := map[uuid.UUID]bool{}
	for _, p := range pend {
		if done[p.ApplicationID] {
			continue
		}
		done[p.ApplicationID] = true
		app, err := r.d.Store.GetApplication(ctx, p.ApplicationID)
		if err == nil {
			err = r.settlePending(ctx, app)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("settle the volume switch of application %s: %w", p.ApplicationID, err))
		}
	}
	resp, err := vd.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", labelRestoreID))})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list restore volumes: %w", err))...)
	}
	for _, v := range resp.Volumes {
		// Only volumes of this berth's applications: another instance
		// sharing the Docker host may be restoring.
		appID, err := uuid.Parse(v.Labels[swarm.LabelAppID])
		if err != nil {
			continue
		}
		if _, err := r.d.Store.GetApplication(ctx, appID); errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		users, err := r.d.Store.VolumeMappedBy(ctx, v.Name, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(users) > 0 {
			continue
		}
		r.d.Logger.Warn("removing a volume a killed restore left unused", "volume", v.Name, "restore", v.Labels[labelRestoreID])
		if err := swarm.RemoveVolume(ctx, vd, v.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cleanupVolumeRestore settles a volume restore a killed process left
// running and says what the application serves now.
func (r *Runner) cleanupVolumeRestore(ctx context.Context, rec store.Restore) (string, error) {
	if rec.ApplicationID == nil {
		return "", nil
	}
	app, err := r.d.Store.GetApplication(ctx, *rec.ApplicationID)
	if err != nil {
		return "", err
	}
	switched, err := r.settleSwitch(ctx, app, rec.ID)
	if switched {
		return app.Name + " runs the restored volumes (the switch had completed)", err
	}
	if err != nil {
		return "", err
	}
	for src, v := range app.Volumes {
		if v == store.RestoreVolumeName(app, src, rec.ID) {
			return app.Name + " runs the restored volumes (the switch had completed)", nil
		}
	}
	return app.Name + " kept its previous volumes", nil
}

// volumeTally counts what an archive (or a volume read back) holds under
// each mount source: entries and regular file bytes.
type volumeTally map[string][2]int64

// tallyTar reads a tar of volumesRoot and counts the entries of each
// source in sources.
func tallyTar(r io.Reader, sources []string) (volumeTally, error) {
	out := volumeTally{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		parts := strings.SplitN(name, "/", 3)
		if len(parts) < 2 || parts[0] != path.Base(volumesRoot) || !slices.Contains(sources, parts[1]) {
			continue
		}
		t := out[parts[1]]
		t[0]++
		if h.Typeflag == tar.TypeReg {
			t[1] += h.Size
		}
		out[parts[1]] = t
	}
}

// sortedKeys returns m's keys, sorted.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
