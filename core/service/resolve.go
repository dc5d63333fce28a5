package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Resource is a kind of record a route names by id; front doors declare
// it per route and Resolve loads it before the handler runs.
type Resource int

// The resources routes name.
const (
	NoResource Resource = iota
	ProjectResource
	EnvironmentResource
	ApplicationResource
	DomainResource
	DeploymentResource
	DatabaseResource
	OrganizationResource
	DestinationResource
	ConnectionResource
	PolicyResource
	BackupResource
	RestoreResource
	ChannelResource
	// AlertRuleResource: threshold alert rules (alerts feature).
	AlertRuleResource
)

// String names the resource in messages ("project not found").
func (r Resource) String() string {
	switch r {
	case ProjectResource:
		return "project"
	case EnvironmentResource:
		return "environment"
	case ApplicationResource:
		return "application"
	case DomainResource:
		return "domain"
	case DeploymentResource:
		return "deployment"
	case DatabaseResource:
		return "database"
	case OrganizationResource:
		return "organization"
	case DestinationResource:
		return "backup destination"
	case ConnectionResource:
		return "git connection"
	case PolicyResource:
		return "backup policy"
	case BackupResource:
		return "backup"
	case RestoreResource:
		return "restore"
	case ChannelResource:
		return "notification channel"
	case AlertRuleResource:
		return "alert rule"
	}
	return "resource"
}

// Resolved holds the record Resolve loaded, in the field of its kind.
type Resolved struct {
	Kind         Resource
	Organization store.Organization
	Project      store.Project
	Environment  store.Environment
	Application  store.Application
	Domain       store.Domain
	Deployment   store.Deployment
	Database     store.Database
	Destination  store.BackupDestination
	Connection   store.GitConnection
	Policy       store.BackupPolicy
	Backup       store.Backup
	Restore      store.Restore
	Channel      store.NotificationChannel
	// AlertRule: a server rule has no organization (OrganizationID is
	// uuid.Nil); only instance administrators resolve it.
	AlertRule store.AlertRule
	// OrganizationID is the organization the record belongs to.
	OrganizationID uuid.UUID
}

// Resolve loads the record of kind with id and checks the caller holds at
// least min in its organization. A record that does not exist and one of
// an organization the caller is not in are the same problem.Missing.
func (s *Services) Resolve(ctx context.Context, p *store.Principal, kind Resource, id uuid.UUID, min store.Role) (Resolved, error) {
	st := s.deps.Store
	r := Resolved{Kind: kind}
	var err error
	switch kind {
	case ProjectResource:
		r.Project, err = st.GetProject(ctx, id)
		r.OrganizationID = r.Project.OrganizationID
	case EnvironmentResource:
		r.Environment, err = st.GetEnvironment(ctx, id)
		r.OrganizationID = r.Environment.OrganizationID
	case ApplicationResource:
		r.Application, err = st.GetApplication(ctx, id)
		r.OrganizationID = r.Application.OrganizationID
	case DomainResource:
		r.Domain, err = st.GetDomain(ctx, id)
		r.OrganizationID = r.Domain.OrganizationID
	case DeploymentResource:
		r.Deployment, err = st.GetDeployment(ctx, id)
		r.OrganizationID = r.Deployment.OrganizationID
	case DatabaseResource:
		r.Database, err = st.GetDatabase(ctx, id)
		r.OrganizationID = r.Database.OrganizationID
	case OrganizationResource:
		if _, member := p.Roles[id]; !member && p != System {
			return r, problem.Missing(kind.String())
		}
		r.Organization, err = st.GetOrganization(ctx, id)
		r.OrganizationID = r.Organization.ID
	case DestinationResource:
		r.Destination, err = st.GetBackupDestination(ctx, id)
		r.OrganizationID = r.Destination.OrganizationID
	case ConnectionResource:
		r.Connection, err = st.GetGitConnection(ctx, id)
		r.OrganizationID = r.Connection.OrganizationID
	case PolicyResource:
		r.Policy, err = st.GetBackupPolicy(ctx, id)
		r.OrganizationID = r.Policy.OrganizationID
	case BackupResource:
		if r.Backup, err = st.GetBackup(ctx, id); err == nil {
			r.OrganizationID, err = s.BackupOrganization(ctx, r.Backup)
		}
	case RestoreResource:
		r.Restore, err = st.GetRestore(ctx, id)
		r.OrganizationID = r.Restore.OrganizationID
	case ChannelResource:
		r.Channel, err = st.GetNotificationChannel(ctx, id)
		r.OrganizationID = r.Channel.OrganizationID
	case AlertRuleResource:
		r.AlertRule, err = s.resolveAlertRule(ctx, p, id, min)
		if r.AlertRule.OrganizationID != nil {
			r.OrganizationID = *r.AlertRule.OrganizationID
		}
		return r, err
	default:
		return r, fmt.Errorf("service: resolve: unknown resource kind %d", kind)
	}
	if errors.Is(err, store.ErrNotFound) {
		return r, problem.Missing(kind.String())
	}
	if err != nil {
		return r, fmt.Errorf("load %s: %w", kind, err)
	}
	return r, Authorize(p, r.OrganizationID, min, kind.String())
}

// BackupOrganization returns the organization a backup belongs to: its
// destination's, else its database's, else its application's (the first of
// them that still exists).
func (s *Services) BackupOrganization(ctx context.Context, b store.Backup) (uuid.UUID, error) {
	st := s.deps.Store
	owners := []struct {
		id  *uuid.UUID
		org func(uuid.UUID) (uuid.UUID, error)
	}{
		{b.DestinationID, func(id uuid.UUID) (uuid.UUID, error) {
			d, err := st.GetBackupDestination(ctx, id)
			return d.OrganizationID, err
		}},
		{b.DatabaseID, func(id uuid.UUID) (uuid.UUID, error) {
			d, err := st.GetDatabase(ctx, id)
			return d.OrganizationID, err
		}},
		{b.ApplicationID, func(id uuid.UUID) (uuid.UUID, error) {
			a, err := st.GetApplication(ctx, id)
			return a.OrganizationID, err
		}},
	}
	for _, o := range owners {
		if o.id == nil {
			continue
		}
		org, err := o.org(*o.id)
		if err == nil {
			return org, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return uuid.Nil, err
		}
	}
	return uuid.Nil, fmt.Errorf("backup %s: %w", b.ID, store.ErrNotFound)
}
