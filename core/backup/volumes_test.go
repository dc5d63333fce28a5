package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/test/dockertest"
)

// appDataDir is where the test application mounts its volume.
const appDataDir = "/data"

var (
	volumeAppOnce  sync.Once
	volumeAppImage string
)

// volumeAppRef builds testdata/volumeapp into a local image once per run,
// shared by the tests and removed by TestMain.
func volumeAppRef(t *testing.T, e *env) string {
	t.Helper()
	volumeAppOnce.Do(func() {
		ref := "berth-test-volumeapp:" + dockertest.UniqueName("v")
		dockertest.BuildGoImage(t, e.docker, "./core/backup/testdata/volumeapp", ref, true)
		volumeAppImage = ref
	})
	if volumeAppImage == "" {
		t.Fatal("the volume test application image could not be built")
	}
	return volumeAppImage
}

// application creates an application with one named volume mount (source
// "data") at /data and deploys it as a Swarm service of the volume app with
// one replica, mounting the application's own Docker volume for it; the
// service and the volumes of the application are removed when the test
// ends.
func (e *env) application(name string) store.Application {
	e.t.Helper()
	app, err := e.store.CreateApplication(e.ctx, e.envID, store.ApplicationSpec{Name: name, SourceType: "image",
		Image: volumeAppRef(e.t, e), Replicas: 1,
		RuntimeSettings: store.RuntimeSettings{Mounts: []store.Mount{{Type: "volume", Source: "data", Target: appDataDir}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { e.removeApp(app) })
	e.deployApp(app)
	e.waitFiles(app, "seeded", func(f map[string]fileInfo) bool { _, ok := f[".seeded"]; return ok })
	return app
}

// deployApp deploys app's service as the release step would, mounting the
// Docker volumes its sources map to now.
func (e *env) deployApp(app store.Application) {
	e.t.Helper()
	app, err := e.store.GetApplication(e.ctx, app.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	_, err = e.mgr.Deploy(e.ctx, swarm.ServiceSpec{Name: app.ServiceName, AppID: app.ID.String(), Image: app.Image, Replicas: 1,
		Mounts:          []swarm.Mount{{Type: swarm.MountVolume, Source: app.Volumes["data"], Target: appDataDir}},
		StopGracePeriod: time.Second, UpdateOrder: swarm.UpdateStartFirst}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
}

// removeApp removes the application's service and every volume it had.
func (e *env) removeApp(app store.Application) {
	ctx := context.Background()
	_ = e.mgr.Remove(ctx, app.ServiceName)
	if cur, err := e.store.GetApplication(ctx, app.ID); err == nil {
		for _, v := range cur.Volumes {
			_ = swarm.RemoveVolume(ctx, e.docker, v)
		}
	}
	_, _ = e.mgr.RemoveVolumes(ctx, swarm.LabelAppID, app.ID.String())
}

// fileInfo is what a volume holds at a path.
type fileInfo struct {
	Type     byte
	Mode     int64
	UID, GID int
	Size     int64
	SHA256   string
	Link     string
}

// appContainers lists the running containers of the application's service.
func (e *env) appContainers(app store.Application) []container.Summary {
	e.t.Helper()
	cs, err := e.docker.ContainerList(e.ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+app.ServiceName), filters.Arg("status", "running"))})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// files reads the application's volume through a running container of it:
// path (relative to the volume) -> what is there.
func (e *env) files(app store.Application) (map[string]fileInfo, error) {
	cs := e.appContainers(app)
	if len(cs) == 0 {
		return nil, errors.New("no running container")
	}
	rc, _, err := e.docker.CopyFromContainer(e.ctx, cs[0].ID, appDataDir)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	out := map[string]fileInfo{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(path.Clean(h.Name), path.Base(appDataDir)), "/")
		if rel == "" {
			continue // the volume's root
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, tr); err != nil {
			return nil, err
		}
		out[rel] = fileInfo{Type: h.Typeflag, Mode: h.Mode, UID: h.Uid, GID: h.Gid, Size: h.Size,
			SHA256: hex.EncodeToString(sum.Sum(nil)), Link: h.Linkname}
	}
}

// waitFiles waits until the volume's files satisfy cond.
func (e *env) waitFiles(app store.Application, what string, cond func(map[string]fileInfo) bool) map[string]fileInfo {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		f, err := e.files(app)
		if err == nil && cond(f) {
			return f
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for the volume to be %s: %v %v", what, f, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// putFiles writes files into the volume through a running container.
func (e *env) putFiles(app store.Application, files map[string]string) {
	e.t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			e.t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		e.t.Fatal(err)
	}
	cs := e.appContainers(app)
	if len(cs) == 0 {
		e.t.Fatal("no running container to write into")
	}
	if err := e.docker.CopyToContainer(e.ctx, cs[0].ID, appDataDir, &buf, container.CopyToContainerOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// wipe makes the application delete everything in its volume.
func (e *env) wipe(app store.Application) {
	e.t.Helper()
	e.putFiles(app, map[string]string{".wipe": "now"})
	e.waitFiles(app, "empty", func(f map[string]fileInfo) bool { return len(f) == 0 })
}

// volumeBackup records a manual backup of app under policy and runs it
// with runner and ctx.
func (e *env) volumeBackup(ctx context.Context, runner *backup.Runner, app store.Application, p store.BackupPolicy) (store.Backup, error) {
	e.t.Helper()
	b, _, err := e.store.CreateBackup(e.ctx, store.NewBackup{PolicyID: &p.ID, ApplicationID: &app.ID, DestinationID: p.DestinationID,
		Kind: "volume", Status: store.BackupQueued, Trigger: store.TriggerManual})
	if err != nil {
		e.t.Fatal(err)
	}
	runErr := runner.Run(ctx, b.ID, true)
	b, err = e.store.GetBackup(e.ctx, b.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return b, runErr
}

func (e *env) volumePolicy(app store.Application, dest store.BackupDestination, stop bool) store.BackupPolicy {
	e.t.Helper()
	p, err := e.store.CreateBackupPolicy(e.ctx, nil, &app.ID, dest.ID, store.BackupPolicySpec{Schedule: "@yearly", TimeZone: "UTC",
		Prefix: "apps", KeepLatest: 5, Enabled: true, StopService: stop})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// observed records what the test saw of the service while a volume
// archive was being uploaded.
type observed struct {
	mu       sync.Mutex
	uploads  int
	replicas []uint64 // the service's replicas when bytes flowed
	running  []int    // its running containers then
	onBytes  func()   // called once when the first bytes flow
}

// observingTargets opens real targets and, for each volume archive put
// through them, records the application's service state once the first
// bytes of the archive flowed (the copy is under way).
type observingTargets struct {
	backup.Targets
	e   *env
	app store.Application
	obs *observed
}

func (o observingTargets) Target(ctx context.Context, dest store.BackupDestination) (backup.Target, error) {
	t, err := o.Targets.Target(ctx, dest)
	if err != nil {
		return nil, err
	}
	return observingTarget{Target: t, o: o}, nil
}

type observingTarget struct {
	backup.Target
	o observingTargets
}

func (t observingTarget) Put(ctx context.Context, req *sdk.PutRequest) (*sdk.PutResponse, error) {
	if req.Metadata["berth-kind"] == "volume" {
		req.Body = &firstBytes{r: req.Body, fn: t.o.sample}
	}
	return t.Target.Put(ctx, req)
}

func (o observingTargets) sample() {
	svc, _, err := o.e.docker.ServiceInspectWithRaw(context.Background(), o.app.ServiceName, swarmInspect)
	var replicas uint64 = 1 << 62
	if err == nil && svc.Spec.Mode.Replicated != nil && svc.Spec.Mode.Replicated.Replicas != nil {
		replicas = *svc.Spec.Mode.Replicated.Replicas
	}
	cs, _ := o.e.docker.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.swarm.service.name="+o.app.ServiceName), filters.Arg("status", "running"))})
	o.obs.mu.Lock()
	defer o.obs.mu.Unlock()
	o.obs.uploads++
	o.obs.replicas = append(o.obs.replicas, replicas)
	o.obs.running = append(o.obs.running, len(cs))
	if o.obs.onBytes != nil {
		o.obs.onBytes()
	}
}

// firstBytes calls fn once, when the first bytes were read.
type firstBytes struct {
	r    io.Reader
	fn   func()
	done bool
}

func (f *firstBytes) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.done {
		f.done = true
		f.fn()
	}
	return n, err
}

// TestVolumeBackupRoundTrip backs up an application's named volume while
// the service runs, destroys and alters its files, restores them and
// compares paths, modes, owners, sizes and sha256 of every file.
func TestVolumeBackupRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.application("files")
	want, err := e.files(app)
	if err != nil {
		t.Fatal(err)
	}
	if blob := want["nested/deep/blob.bin"]; blob.Size != 3<<20 || want["nested/secret.txt"].UID != 1234 ||
		want["latest"].Link != "nested/deep/blob.bin" {
		t.Fatalf("the application did not seed its volume as expected: %+v", want)
	}
	p := e.volumePolicy(app, e.dest, false)
	b, err := e.volumeBackup(e.ctx, e.runner, app, p)
	if err != nil || b.Status != store.BackupSucceeded {
		t.Fatalf("volume backup: %v (%+v)", err, b)
	}
	if b.Kind != "volume" || b.SizeBytes == 0 || len(b.SHA256) != 64 || !strings.HasPrefix(b.Key, "apps/volumes/files/") ||
		!strings.HasSuffix(b.Key, ".tar.gz") {
		t.Errorf("recorded backup = %+v", b)
	}
	if ev := e.events.of(sdk.EventVolumeBackupOK); len(ev) != 1 || !strings.Contains(ev[0].Title, "files") ||
		ev[0].Backup.Kind != sdk.BackupKindVolumes || ev[0].Backup.App != app.Name || ev[0].EnvironmentID != e.envID.String() ||
		ev[0].OrganizationID != e.orgID.String() {
		t.Errorf("succeeded events = %+v", ev)
	}
	if ev := e.events.of(sdk.EventBackupSucceeded); len(ev) != 0 {
		t.Errorf("a volume backup emitted backup.succeeded: %+v", ev)
	}
	objectFile(t, e.root, b.Key+backup.ManifestSuffix)
	if n := len(e.appContainers(app)); n != 1 {
		t.Errorf("without stop_service the application keeps running: %d containers", n)
	}

	e.wipe(app)
	e.putFiles(app, map[string]string{"notes.txt": "altered after the backup", "extra.txt": "written after the backup"})
	before := e.currentApp(app)
	var lines []string
	serving := e.watchServing(app)
	defer serving()
	if err := e.runner.RestoreVolumes(e.ctx, backup.VolumeRestoreRequest{BackupID: b.ID}, func(l string) { lines = append(lines, l) }); err != nil {
		t.Fatalf("restore: %v (%q)", err, lines)
	}
	if least := serving(); least < 1 {
		t.Errorf("the application had %d running containers at some point of the restore, want it serving throughout", least)
	}
	t.Logf("restore progress: %q", lines)
	got := e.waitFiles(app, "restored", func(f map[string]fileInfo) bool { _, extra := f["extra.txt"]; return len(f) > 1 && !extra })
	compareFiles(t, got, want) // exactly the archive's files: none written after the backup
	after := e.currentApp(app)
	if after.Volumes["data"] == before.Volumes["data"] || !strings.HasPrefix(after.Volumes["data"], app.ServiceName+"_data_r") {
		t.Errorf("mapped volume %q -> %q, want a fresh restore volume", before.Volumes["data"], after.Volumes["data"])
	}
	e.assertVolume(before.Volumes["data"], false)
	e.assertOnlyVolumes(app, after.Volumes["data"])

	// A truncated archive is refused before the volume is touched.
	file := objectFile(t, e.root, b.Key)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	e.putFiles(app, map[string]string{"notes.txt": "changed again"})
	if err := e.runner.RestoreVolumes(e.ctx, backup.VolumeRestoreRequest{BackupID: b.ID}, nil); !errors.Is(err, backup.ErrVerification) {
		t.Fatalf("restore of a truncated archive = %v, want a verification error", err)
	}
	if f, _ := e.files(app); f["notes.txt"].Size != int64(len("changed again")) {
		t.Errorf("the refused restore touched the volume: %+v", f["notes.txt"])
	}
	e.assertOnlyVolumes(app, after.Volumes["data"])
}

// compareFiles fails the test for each path that differs.
func compareFiles(t *testing.T, got, want map[string]fileInfo) {
	t.Helper()
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if got[p] != want[p] {
			t.Errorf("%s: got %+v, want %+v", p, got[p], want[p])
		}
	}
}

// TestVolumeBackupStopsTheService backs up with stop_service: the service
// has no running container while the archive is copied and is back at
// its previous replicas afterwards, also when the copy fails or is
// cancelled half-way.
func TestVolumeBackupStopsTheService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.application("stopped")
	if _, err := e.mgr.Scale(e.ctx, app.ServiceName, 2); err != nil {
		t.Fatal(err)
	}
	want, err := e.files(app)
	if err != nil {
		t.Fatal(err)
	}
	obs := &observed{}
	runner := e.newRunner(observingTargets{Targets: e.targets, e: e, app: app, obs: obs})
	checkBack := func(what string) {
		t.Helper()
		if n := len(e.appContainers(app)); n != 2 {
			t.Errorf("%s: %d running containers right after the run, want the previous 2", what, n)
		}
		svc, _, err := e.docker.ServiceInspectWithRaw(e.ctx, app.ServiceName, swarmInspect)
		if err != nil {
			t.Fatal(err)
		}
		if r := *svc.Spec.Mode.Replicated.Replicas; r != 2 {
			t.Errorf("%s: service replicas = %d, want the previous 2", what, r)
		}
	}
	checkStopped := func(what string, uploads int) {
		t.Helper()
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if obs.uploads != uploads {
			t.Fatalf("%s: %d uploads observed, want %d", what, obs.uploads, uploads)
		}
		if r, n := obs.replicas[uploads-1], obs.running[uploads-1]; r != 0 || n != 0 {
			t.Errorf("%s: during the copy the service had %d replicas and %d running containers, want 0 and 0", what, r, n)
		}
	}

	p := e.volumePolicy(app, e.dest, true)
	b, err := e.volumeBackup(e.ctx, runner, app, p)
	if err != nil || b.Status != store.BackupSucceeded {
		t.Fatalf("volume backup: %v (%+v)", err, b)
	}
	checkStopped("backup", 1)
	checkBack("backup")

	// Cancelled in the middle of the copy: the run fails, the service comes back.
	ctx, cancel := context.WithCancel(e.ctx)
	obs.onBytes = cancel
	failed, err := e.volumeBackup(ctx, runner, app, p)
	obs.onBytes = nil
	if err == nil || failed.Status != store.BackupFailed {
		t.Fatalf("a cancelled copy = %v (%+v), want a failed run", err, failed)
	}
	checkStopped("cancelled copy", 2)
	checkBack("cancelled copy")

	// A destination that cannot store anything: the upload fails at once.
	broken := e.destination("broken", e.root+"/broken")
	if err := os.RemoveAll(e.root + "/broken"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.root+"/broken", []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	failed, err = e.volumeBackup(e.ctx, runner, app, e.volumePolicy(app, broken, true))
	if err == nil || failed.Status != store.BackupFailed || failed.Error == "" {
		t.Fatalf("backup to a broken destination = %v (%+v), want a failed run", err, failed)
	}
	checkBack("failed upload")

	// The restore switches the service (both replicas) to the restored
	// volume.
	e.wipe(app)
	if err := runner.RestoreVolumes(e.ctx, backup.VolumeRestoreRequest{BackupID: b.ID}, nil); err != nil {
		t.Fatal(err)
	}
	checkBack("restore")
	compareFiles(t, e.waitFiles(app, "restored", func(f map[string]fileInfo) bool { return len(f) > 0 }), want)
	if len(e.events.of(sdk.EventVolumeBackupFail)) != 2 || len(e.events.of(sdk.EventBackupFailed)) != 0 {
		t.Errorf("failed events = %+v", e.events.of(sdk.EventVolumeBackupFail))
	}
}

// removeVolumeApp removes the image volumeAppRef built, if any.
func removeVolumeApp() { dockertest.RemoveImages(volumeAppImage) }
