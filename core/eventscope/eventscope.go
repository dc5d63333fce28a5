// Package eventscope fills in where a notification event happened: the
// organization, project and environment (ids and names) of the application
// or database it concerns, so that channels can filter on them.
package eventscope

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// Environment scopes ev to an environment (and its project and
// organization), filling in Project and Environment names.
func Environment(ctx context.Context, st *store.Store, envID uuid.UUID, ev *sdk.Event) error {
	e, err := st.GetEnvironment(ctx, envID)
	if err != nil {
		return fmt.Errorf("eventscope: environment %s: %w", envID, err)
	}
	ev.OrganizationID, ev.ProjectID, ev.EnvironmentID, ev.Environment = e.OrganizationID.String(), e.ProjectID.String(), e.ID.String(), e.Name
	if ev.Project == "" {
		if p, err := st.GetProject(ctx, e.ProjectID); err == nil {
			ev.Project = p.Name
		}
	}
	return nil
}

// Application scopes ev to an application's environment and sets App.
func Application(ctx context.Context, st *store.Store, a store.Application, ev *sdk.Event) error {
	ev.App = a.Name
	ev.OrganizationID, ev.ProjectID = a.OrganizationID.String(), a.ProjectID.String()
	return Environment(ctx, st, a.EnvironmentID, ev)
}

// ApplicationID is Application for an application known by its id.
func ApplicationID(ctx context.Context, st *store.Store, id uuid.UUID, ev *sdk.Event) error {
	a, err := st.GetApplication(ctx, id)
	if err != nil {
		return fmt.Errorf("eventscope: application %s: %w", id, err)
	}
	return Application(ctx, st, a, ev)
}

// DatabaseID scopes ev to a database's environment.
func DatabaseID(ctx context.Context, st *store.Store, id uuid.UUID, ev *sdk.Event) error {
	d, err := st.GetDatabase(ctx, id)
	if err != nil {
		return fmt.Errorf("eventscope: database %s: %w", id, err)
	}
	ev.OrganizationID, ev.ProjectID = d.OrganizationID.String(), d.ProjectID.String()
	return Environment(ctx, st, d.EnvironmentID, ev)
}
