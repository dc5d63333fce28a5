package e2e_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"

	"github.com/berth-dev/berth/test/dockertest"
)

// appContainer returns a running container of the service.
func (s *server) appContainer(service string) string {
	s.t.Helper()
	var id string
	s.waitFor("a running container of "+service, time.Minute, func() bool {
		cs, err := s.Docker.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(
			filters.Arg("label", "com.docker.swarm.service.name="+service), filters.Arg("status", "running"))})
		if err == nil && len(cs) > 0 {
			id = cs[0].ID
		}
		return id != ""
	})
	return id
}

// writeFile writes name into dir of a running container of the service
// (the application image has no shell: Docker's archive API).
func (s *server) writeFile(service, dir, name, body string) {
	s.t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(body))
	_ = tw.Close()
	if err := s.Docker.CopyToContainer(context.Background(), s.appContainer(service), dir, &buf, container.CopyToContainerOptions{}); err != nil {
		s.t.Fatal(err)
	}
}

// readFile reads path from a running container of the service ("" when
// it does not exist).
func (s *server) readFile(service, path string) string {
	s.t.Helper()
	rc, _, err := s.Docker.CopyFromContainer(context.Background(), s.appContainer(service), path)
	if err != nil {
		return ""
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return ""
	}
	b, _ := io.ReadAll(tr)
	return string(b)
}

// appVolumes lists the Docker volumes labelled with the application.
func (s *server) appVolumes(appID string) []string {
	s.t.Helper()
	resp, err := s.Docker.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", "dev.berth.app-id="+appID))})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, v := range resp.Volumes {
		out = append(out, v.Name)
	}
	return out
}

// removeAppVolumes stops berth, removes the application's service and then
// every volume labelled with the application (a volume backup or restore
// test's clean-up).
func (s *server) removeAppVolumes(a app) {
	s.Stop()
	dockertest.RemoveService(s.Docker, a.ServiceName)
	for _, v := range s.appVolumes(a.ID) {
		_ = s.Docker.VolumeRemove(context.Background(), v, true)
	}
}

// TestKilledDuringVolumeRestore SIGKILLs berth while a volume restore
// loaded its fresh volume but had not switched (the application keeps its
// volume and data, the fresh volume is removed at start-up) and after
// Swarm switched the service but before berth settled the switch (the
// switch is recorded, the previous volume removed). Both restores are
// failed with the reason and say what the application runs; the next
// restore succeeds while the application keeps serving.
func TestKilledDuringVolumeRestore(t *testing.T) {
	s := newServer(t)
	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "crash-volume-restore"}, 201, &proj)
	var dest struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/organizations/"+proj.OrganizationID+"/backup-destinations", map[string]any{
		"name": "disk", "plugin_id": "backup.local", "settings": map[string]any{"directory": dockertest.SearchableTempDir(t)}}, 201, &dest)
	image := s.Name + "-vol:v1"
	buildImage(t, s, image)
	var a app
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/applications", map[string]any{"name": "files", "source_type": "image",
		"image": image, "port": 8080, "replicas": 2, "mounts": []map[string]any{{"type": "volume", "source": "data", "target": "/data"}}}, 201, &a)
	t.Cleanup(func() { s.removeAppVolumes(a) })
	s.deployAndWait(a, "succeeded")
	s.writeFile(a.ServiceName, "/data", "state.txt", "backed up")
	var policy backupPolicy
	s.Call("POST", "/applications/"+a.ID+"/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "0 0 1 1 *",
		"retries": 0, "enabled": true}, 201, &policy)
	var b backupRecord
	s.Call("POST", "/backup-policies/"+policy.ID+"/run", nil, 202, &b)
	s.waitFor("the volume backup", 2*time.Minute, func() bool {
		s.Call("GET", "/backups/"+b.ID, nil, 200, &b)
		return b.Status == "succeeded" || b.Status == "failed"
	})
	if b.Status != "succeeded" {
		t.Fatalf("volume backup: %+v", b)
	}
	s.writeFile(a.ServiceName, "/data", "state.txt", "after the backup")
	initial := s.appVolumes(a.ID)
	if len(initial) != 1 || initial[0] != a.ServiceName+"_data" {
		t.Fatalf("the application's volumes: %v, want its own %s_data", initial, a.ServiceName)
	}

	killedAt := func(point string, n int) restoreRecord {
		t.Helper()
		s.restart(point)
		var r restoreRecord
		s.Call("POST", "/applications/"+a.ID+"/restore", map[string]any{"backup_id": b.ID}, 202, &r)
		s.waitPaused(point, n, 3*time.Minute)
		s.Kill()
		s.restart("")
		s.waitFor("the interrupted restore to be settled", 2*time.Minute, func() bool {
			s.Call("GET", "/restores/"+r.ID, nil, 200, &r)
			return r.done() && (strings.Contains(r.Error, "kept its previous volumes") || strings.Contains(r.Error, "runs the restored volumes"))
		})
		if r.Status != "failed" || !strings.Contains(r.Error, "berth stopped during the restore") {
			t.Fatalf("interrupted restore: %s %q", r.Status, r.Error)
		}
		s.waitFor("the application's replicas", time.Minute, func() bool {
			desired, running := s.replicas(a.ServiceName)
			return desired == 2 && running == 2
		})
		return r
	}

	// Killed before the switch: the application keeps its volume and data.
	r := killedAt("restore.switch", 1)
	if !strings.Contains(r.Error, "kept its previous volumes") {
		t.Fatalf("restore killed before the switch: %q", r.Error)
	}
	if got := s.readFile(a.ServiceName, "/data/state.txt"); got != "after the backup" {
		t.Fatalf("data after a restore killed before the switch: %q", got)
	}
	if vols := s.appVolumes(a.ID); len(vols) != 1 || vols[0] != initial[0] {
		t.Fatalf("volumes after a restore killed before the switch: %v, want only %v", vols, initial)
	}

	// Killed after Swarm switched: the restored volume is kept and recorded.
	r = killedAt("restore.switched", 1)
	if !strings.Contains(r.Error, "runs the restored volumes") {
		t.Fatalf("restore killed after the switch: %q", r.Error)
	}
	if got := s.readFile(a.ServiceName, "/data/state.txt"); got != "backed up" {
		t.Fatalf("data after a restore killed after the switch: %q", got)
	}
	switched := s.appVolumes(a.ID)
	if len(switched) != 1 || switched[0] == initial[0] {
		t.Fatalf("volumes after a restore killed after the switch: %v, want only the restored one", switched)
	}

	// A deployment mounts the recorded volume, not the previous one.
	s.writeFile(a.ServiceName, "/data", "state.txt", "changed again")
	s.deployAndWait(a, "succeeded")
	if got := s.readFile(a.ServiceName, "/data/state.txt"); got != "changed again" {
		t.Fatalf("data after a deployment: %q (the release mounted another volume)", got)
	}

	// The next restore succeeds.
	s.Call("POST", "/applications/"+a.ID+"/restore", map[string]any{"backup_id": b.ID}, 202, &r)
	s.waitFor("the restore", 3*time.Minute, func() bool {
		s.Call("GET", "/restores/"+r.ID, nil, 200, &r)
		return r.done()
	})
	if r.Status != "succeeded" {
		t.Fatalf("restore after the restarts: %s %q", r.Status, r.Error)
	}
	if got := s.readFile(a.ServiceName, "/data/state.txt"); got != "backed up" {
		t.Fatalf("data after the restore: %q", got)
	}
	if vols := s.appVolumes(a.ID); len(vols) != 1 || vols[0] == switched[0] {
		t.Fatalf("volumes after the restore: %v", vols)
	}
}
