package backup_test

import (
	"testing"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/test/dockertest"
)

// TestDeleteKeepsVolume deletes a database's service and keeps its data
// volume unless asked to delete it too.
func TestDeleteKeepsVolume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	db := e.database(database.Redis, "cache")
	svc, _, err := e.docker.ServiceInspectWithRaw(e.ctx, db.ServiceName, swarmInspect)
	if err != nil {
		t.Fatal(err)
	}
	if o := svc.Spec.UpdateConfig.Order; o != "stop-first" || svc.Spec.TaskTemplate.ContainerSpec.StopGracePeriod == nil {
		t.Errorf("update order %q, grace %v", o, svc.Spec.TaskTemplate.ContainerSpec.StopGracePeriod)
	}
	if err := e.svc.Delete(e.ctx, db, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.docker.VolumeInspect(e.ctx, db.VolumeName); err != nil {
		t.Fatalf("the volume should be kept: %v", err)
	}
	if err := e.svc.Delete(e.ctx, db, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.docker.VolumeInspect(e.ctx, db.VolumeName); !dockertest.IsNotFound(err) {
		t.Fatalf("the volume should be gone: %v", err)
	}
}
