package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/swarm"
)

// releaseSpec is the Swarm service the release step runs, built from the
// deployment's release snapshot (core/snapshot), which it records first:
// a deployment snapshots the image it built or names with the
// application's current settings and variables; a rollback restores its
// target's snapshot (image, variables, settings, files, mounts), so a bad
// variable change rolls back too. Either way the mounts map to the
// application's current volumes (r.a.Volumes, reloaded just before):
// where data lives is not part of a release.
//
// A rollback to a deployment that recorded no snapshot (made before berth
// recorded them) releases the target's image with the current settings
// and variables, as berth did before, and says so in the log.
//
// r's application, environment and image become the snapshot's, so the
// rest of the release step sees what actually runs.
func (p *Pipeline) releaseSpec(ctx context.Context, r *run) (swarm.ServiceSpec, error) {
	snap, err := p.releaseSnapshot(ctx, r)
	if err != nil {
		return swarm.ServiceSpec{}, err
	}
	if err := snapshot.Save(ctx, p.store, r.d.ID, snap); err != nil {
		return swarm.ServiceSpec{}, fmt.Errorf("record the release snapshot: %w", err)
	}
	r.a, r.env, r.image = snap.Apply(r.a), snap.Env, snap.Image
	return ServiceSpec(p.cfg.Instance, p.cfg.ProxyNetwork, r.a, r.d, r.image, r.env), nil
}

// releaseSnapshot is what the deployment releases: its target's snapshot for a
// rollback that has one, else the current settings and variables with
// the resolved image.
func (p *Pipeline) releaseSnapshot(ctx context.Context, r *run) (snapshot.Snapshot, error) {
	current := snapshot.Of(r.a, r.image, r.env)
	if r.d.Kind != store.KindRollback {
		return current, nil
	}
	if r.d.RollbackOf != nil {
		target, ok, err := snapshot.Load(ctx, p.store, *r.d.RollbackOf)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return snapshot.Snapshot{}, fmt.Errorf("load the snapshot of deployment %s: %w", *r.d.RollbackOf, err)
		}
		if ok {
			r.w.Info(fmt.Sprintf("restoring the release of deployment %s: its image, variables and settings", *r.d.RollbackOf))
			return target, nil
		}
	}
	msg := "the rollback target recorded no release snapshot (it was deployed before berth recorded them): " +
		"releasing its image with the application's current variables and settings"
	r.w.Info(msg)
	p.log.Info(msg, "deployment", r.d.ID, "rollback_of", r.d.RollbackOf)
	return current, nil
}
