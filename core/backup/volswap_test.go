package backup_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/sdk"
)

// currentApp reloads app (its current volume mappings).
func (e *env) currentApp(app store.Application) store.Application {
	e.t.Helper()
	a, err := e.store.GetApplication(e.ctx, app.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// watchServing samples the application's running containers until the
// returned function is called (once or more), which returns the fewest
// seen.
func (e *env) watchServing(app store.Application) func() int {
	stop := make(chan struct{})
	least := 1 << 30
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			cs, err := e.docker.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
				filters.Arg("label", "com.docker.swarm.service.name="+app.ServiceName), filters.Arg("status", "running"))})
			if n := len(cs); err == nil && n < least {
				least = n
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	return func() int {
		once.Do(func() { close(stop) })
		wg.Wait()
		return least
	}
}

// assertVolume checks whether the Docker volume name exists.
func (e *env) assertVolume(name string, want bool) {
	e.t.Helper()
	_, err := e.docker.VolumeInspect(e.ctx, name)
	if got := err == nil; got != want {
		e.t.Errorf("volume %s exists = %v, want %v (%v)", name, got, want, err)
	}
}

// assertOnlyVolumes checks that the volumes labelled with the application
// are exactly want.
func (e *env) assertOnlyVolumes(app store.Application, want ...string) {
	e.t.Helper()
	resp, err := e.docker.VolumeList(e.ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", swarm.LabelAppID+"="+app.ID.String()))})
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for _, v := range resp.Volumes {
		got = append(got, v.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Errorf("volumes of %s = %v, want %v", app.Name, got, want)
	}
}

// failingLoad opens real targets whose second read of a volume archive
// (the load, after the verification) cancels the restore once its first
// bytes flowed.
type failingLoad struct {
	backup.Targets
	mu     sync.Mutex
	reads  int
	cancel context.CancelFunc
}

func (f *failingLoad) Target(ctx context.Context, dest store.BackupDestination) (backup.Target, error) {
	t, err := f.Targets.Target(ctx, dest)
	if err != nil {
		return nil, err
	}
	return failingTarget{Target: t, f: f}, nil
}

type failingTarget struct {
	backup.Target
	f *failingLoad
}

func (t failingTarget) Get(ctx context.Context, req *sdk.GetRequest) (*sdk.GetResponse, error) {
	resp, err := t.Target.Get(ctx, req)
	if err != nil || !strings.HasSuffix(req.Key, ".tar.gz") {
		return resp, err
	}
	t.f.mu.Lock()
	t.f.reads++
	second := t.f.reads == 2
	t.f.mu.Unlock()
	if second {
		resp.Body = readCloser{Reader: &firstBytes{r: resp.Body, fn: t.f.cancel}, Closer: resp.Body}
	}
	return resp, err
}

// TestVolumeRestoreFailureBeforeTheSwitch: a restore that fails while it
// loads the fresh volume leaves the application on its volume, with its
// data untouched, and no volume behind.
func TestVolumeRestoreFailureBeforeTheSwitch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.application("failing")
	b, err := e.volumeBackup(e.ctx, e.runner, app, e.volumePolicy(app, e.dest, false))
	if err != nil {
		t.Fatal(err)
	}
	e.putFiles(app, map[string]string{"after.txt": "written after the backup"})
	before, err := e.files(app)
	if err != nil {
		t.Fatal(err)
	}
	cur := e.currentApp(app)
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	runner := e.newRunner(&failingLoad{Targets: e.targets, cancel: cancel})
	err = runner.RestoreVolumes(ctx, backup.VolumeRestoreRequest{BackupID: b.ID}, nil)
	if err == nil || !strings.Contains(err.Error(), "keeps running on its previous volumes") {
		t.Fatalf("a restore cancelled while loading = %v, want a failure keeping the previous volumes", err)
	}
	if got := e.currentApp(app).Volumes["data"]; got != cur.Volumes["data"] {
		t.Errorf("the mapping changed to %s", got)
	}
	svc, _, err := e.docker.ServiceInspectWithRaw(e.ctx, app.ServiceName, swarmInspect)
	if err != nil {
		t.Fatal(err)
	}
	if src := svc.Spec.TaskTemplate.ContainerSpec.Mounts[0].Source; src != cur.Volumes["data"] {
		t.Errorf("the service mounts %s, want its previous %s", src, cur.Volumes["data"])
	}
	after, err := e.files(app)
	if err != nil {
		t.Fatal(err)
	}
	compareFiles(t, after, before)
	e.assertOnlyVolumes(app, cur.Volumes["data"])
}

// TestVolumesArePerApplication: two applications of one organization that
// both mount "data" get different Docker volumes; a mapping recorded for
// an existing service (the migration's) is kept.
func TestVolumesArePerApplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	one, two := e.application("one"), e.application("two")
	if one.Volumes["data"] == two.Volumes["data"] || one.Volumes["data"] != store.DefaultVolumeName(one, "data") {
		t.Fatalf("volumes: one %q, two %q", one.Volumes["data"], two.Volumes["data"])
	}
	e.putFiles(one, map[string]string{"only-one.txt": "1"})
	e.waitFiles(one, "written", func(f map[string]fileInfo) bool { _, ok := f["only-one.txt"]; return ok })
	if f, err := e.files(two); err != nil || len(f) == 0 {
		t.Fatal(f, err)
	} else if _, ok := f["only-one.txt"]; ok {
		t.Fatal("application two sees a file application one wrote")
	}
	if _, err := e.store.Pool().Exec(e.ctx, `INSERT INTO app_volumes (application_id, source, volume) VALUES ($1, 'data', 'legacy-data')`,
		two.ID); err != nil {
		t.Fatal(err)
	}
	if v := e.currentApp(two).Volumes["data"]; v != "legacy-data" {
		t.Fatalf("recorded mapping: %q", v)
	}
}

// TestRecoverSettlesInterruptedVolumeRestores: what a berth killed during a
// volume restore left is settled at start-up: a fresh volume that was never
// switched to is removed; a switch recorded but not made in Swarm is undone
// (the application keeps its volume); a switch Swarm completed is recorded
// and the previous volume removed.
func TestRecoverSettlesInterruptedVolumeRestores(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := queue.Migrate(e.ctx, e.store.Pool()); err != nil {
		t.Fatal(err)
	}
	q, err := queue.New(e.store.Pool(), river.NewWorkers(), queue.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	fresh := func(app store.Application, id uuid.UUID) string {
		name := store.RestoreVolumeName(app, "data", id)
		if _, err := e.docker.VolumeCreate(e.ctx, volume.CreateOptions{Name: name, Labels: map[string]string{
			swarm.LabelManaged: "true", swarm.LabelAppID: app.ID.String(), "dev.berth.restore-id": id.String()}}); err != nil {
			t.Fatal(err)
		}
		return name
	}

	// Killed while loading: only the fresh volume exists.
	loading := e.application("loading")
	loadingVol := loading.Volumes["data"]
	leftover := fresh(loading, uuid.New())
	// Killed after recording the switch, before Swarm switched.
	recorded := e.application("recorded")
	recordedVol := recorded.Volumes["data"]
	rid := uuid.New()
	notSwitched := fresh(recorded, rid)
	if err := e.store.BeginVolumeSwitch(e.ctx, recorded, rid, map[string]string{"data": notSwitched}); err != nil {
		t.Fatal(err)
	}
	// Killed after Swarm switched, before the switch was settled.
	switched := e.application("switched")
	switchedVol := switched.Volumes["data"]
	sid := uuid.New()
	done := fresh(switched, sid)
	if err := e.store.BeginVolumeSwitch(e.ctx, switched, sid, map[string]string{"data": done}); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.SwitchVolumes(e.ctx, switched.ServiceName, map[string]string{switchedVol: done}, nil); err != nil {
		t.Fatal(err)
	}

	if err := e.newRunner(e.targets).Recover(e.ctx, q, map[string]string{"dev.berth.none": "x"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		app       store.Application
		want      string
		remaining []string
		gone      string
	}{
		{"killed while loading", loading, loadingVol, []string{loadingVol}, leftover},
		{"killed before the Swarm switch", recorded, recordedVol, []string{recordedVol}, notSwitched},
		{"killed after the Swarm switch", switched, done, []string{done}, switchedVol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.currentApp(tt.app).Volumes["data"]; got != tt.want {
				t.Errorf("mapped volume = %s, want %s", got, tt.want)
			}
			e.assertOnlyVolumes(tt.app, tt.remaining...)
			e.assertVolume(tt.gone, false)
		})
	}
	if pend, err := e.store.PendingVolumeSwitches(e.ctx, uuid.Nil); err != nil || len(pend) != 0 {
		t.Errorf("pending switches after Recover: %+v, %v", pend, err)
	}
}

// readCloser reads from Reader and closes Closer.
type readCloser struct {
	io.Reader
	io.Closer
}

// rollingBackSwitcher switches for real but cancels the switch as soon as
// Swarm reports the update under way, so Swarm rolls it back.
type rollingBackSwitcher struct {
	*swarm.Manager
	rolledBack bool
}

func (s *rollingBackSwitcher) SwitchVolumes(ctx context.Context, service string, swap map[string]string, progress func(string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := s.Manager.SwitchVolumes(ctx, service, swap, func(line string) {
		if strings.HasPrefix(line, "switching service") {
			cancel()
		}
	})
	s.rolledBack = err != nil
	return err
}

// TestVolumeRestoreSwitchRolledBack: a switch that fails in Swarm (here:
// cancelled once the update started, so Swarm rolls it back) leaves the
// application on its previous volume and data, maps it there, and removes
// the fresh volume.
func TestVolumeRestoreSwitchRolledBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.application("rolledback")
	b, err := e.volumeBackup(e.ctx, e.runner, app, e.volumePolicy(app, e.dest, false))
	if err != nil {
		t.Fatal(err)
	}
	e.putFiles(app, map[string]string{"after.txt": "written after the backup"})
	before := e.waitFiles(app, "written", func(f map[string]fileInfo) bool { _, ok := f["after.txt"]; return ok })
	cur := e.currentApp(app)
	sw := &rollingBackSwitcher{Manager: e.mgr}
	runner := backup.New(backup.Deps{Store: e.store, Docker: e.docker, Targets: e.targets, Services: e.svc, Scaler: e.mgr,
		Switcher: sw, Events: e.events, Logger: slog.New(slog.DiscardHandler)})
	err = runner.RestoreVolumes(e.ctx, backup.VolumeRestoreRequest{BackupID: b.ID}, nil)
	if err == nil || !sw.rolledBack || !strings.Contains(err.Error(), "keeps running on its previous volumes") {
		t.Fatalf("a rolled back switch = %v (rolled back %v), want a failure keeping the previous volumes", err, sw.rolledBack)
	}
	t.Logf("restore: %v", err)
	if got := e.currentApp(app).Volumes["data"]; got != cur.Volumes["data"] {
		t.Errorf("the mapping changed to %s", got)
	}
	svc, _, err := e.docker.ServiceInspectWithRaw(e.ctx, app.ServiceName, swarmInspect)
	if err != nil {
		t.Fatal(err)
	}
	if src := svc.Spec.TaskTemplate.ContainerSpec.Mounts[0].Source; src != cur.Volumes["data"] {
		t.Errorf("the service mounts %s, want its previous %s", src, cur.Volumes["data"])
	}
	compareFiles(t, e.waitFiles(app, "served", func(f map[string]fileInfo) bool { return len(f) > 0 }), before)
	e.assertOnlyVolumes(app, cur.Volumes["data"])
}
