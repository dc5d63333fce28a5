package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

// ReleaseDiff is what differs between two releases of an application.
type ReleaseDiff struct {
	// From is the deployment compared against, To the one compared.
	From uuid.UUID `json:"from"`
	To   uuid.UUID `json:"to"`
	// Changes are sorted by field; secret values are "********".
	Changes []snapshot.Change `json:"changes"`
}

// Diff lists what changed from deployment against to d (viewers and
// above): image, variables, settings, files and mounts, secret values
// masked. Both must be releases of the same application that recorded
// their snapshot.
func (ds *Deployments) Diff(ctx context.Context, p *store.Principal, d store.Deployment, against string) (ReleaseDiff, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleViewer, "deployment"); err != nil {
		return ReleaseDiff{}, err
	}
	if against == "" {
		return ReleaseDiff{}, problem.InvalidField("against", "is required: the id of another deployment of the same application")
	}
	notSibling := problem.InvalidField("against", "must be the id of a deployment of the same application")
	otherID, err := uuid.Parse(against)
	if err != nil {
		return ReleaseDiff{}, notSibling
	}
	st := ds.s.deps.Store
	other, err := st.GetDeployment(ctx, otherID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && other.ApplicationID != d.ApplicationID) {
		// The same answer whether it does not exist or belongs elsewhere:
		// ids of other applications (and tenants) leak nothing.
		return ReleaseDiff{}, notSibling
	}
	if err != nil {
		return ReleaseDiff{}, err
	}
	from, err := ds.snapshot(ctx, "against", other)
	if err != nil {
		return ReleaseDiff{}, err
	}
	to, err := ds.snapshot(ctx, "id", d)
	if err != nil {
		return ReleaseDiff{}, err
	}
	changes, err := snapshot.Diff(from, to)
	if err != nil {
		return ReleaseDiff{}, err
	}
	return ReleaseDiff{From: other.ID, To: d.ID, Changes: changes}, nil
}

// snapshot loads d's release snapshot; field names d in a conflict.
func (ds *Deployments) snapshot(ctx context.Context, field string, d store.Deployment) (snapshot.Snapshot, error) {
	s, ok, err := snapshot.Load(ctx, ds.s.deps.Store, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return s, problem.Missing("deployment")
	}
	if err != nil {
		return s, err
	}
	if !ok {
		return s, problem.Conflicting(field, fmt.Sprintf("deployment %s recorded no release snapshot "+
			"(it was made before berth recorded them, or never reached its release step)", d.ID))
	}
	return s, nil
}

// DiffWithPrevious lists what changed from the release d replaced (its
// application's newest successful release older than d) to d, as Diff
// does; ok is false when there is no such release.
func (ds *Deployments) DiffWithPrevious(ctx context.Context, p *store.Principal, d store.Deployment) (diff ReleaseDiff, ok bool, err error) {
	if err := Authorize(p, d.OrganizationID, store.RoleViewer, "deployment"); err != nil {
		return ReleaseDiff{}, false, err
	}
	prev, ok, err := ds.s.deps.Store.PreviousRelease(ctx, d)
	if err != nil || !ok {
		return ReleaseDiff{}, false, err
	}
	diff, err = ds.Diff(ctx, p, d, prev.ID.String())
	diff.From, diff.To = prev.ID, d.ID
	return diff, true, err
}
