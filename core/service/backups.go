package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/backupjob"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Backups manages backup destinations, backup policies and backup runs.
// Admins manage destinations (they hold credentials and may name host
// directories); members manage policies, test destinations, list their
// objects and back up now. The scheduler records its runs here as System.
type Backups struct{ s *Services }

// BackupObject is an object found on a destination.
type BackupObject struct {
	Key       string            `json:"key"`
	SizeBytes int64             `json:"size_bytes"`
	Modified  time.Time         `json:"modified"`
	Metadata  map[string]string `json:"metadata"`
	// BackupID is the recorded backup whose object this is; null for an
	// object found only on the destination (restore it by destination_id
	// and key).
	BackupID *uuid.UUID `json:"backup_id"`
}

// Destinations.

// NewDestination is the input of Backups.CreateDestination.
type NewDestination struct {
	Name string
	// PluginID is an installed backup plugin (the front door checks it is
	// installed and passes its settings schema in Schema).
	PluginID string
	Settings map[string]json.RawMessage
	// Schema is the plugin's settings schema, nil when unknown: its
	// x-berth-host-path properties are checked by the host-access guard.
	Schema json.RawMessage
}

// DestinationChange renames a destination or merges settings into it
// (null removes a key); nil fields stay.
type DestinationChange struct {
	Name *string
	// PluginID, given, must be the destination's: it cannot change.
	PluginID *string
	Settings map[string]json.RawMessage
	Schema   json.RawMessage
}

// DestinationName checks a destination's name: the one rule of both
// front doors (the dashboard asked for a slug of 40, the API for text of
// 100; text it is, so every name the dashboard accepted still passes).
func DestinationName(name string) error { return validate.Text("name", name, 1, 100) }

// MergeSettings applies a settings patch onto saved ones: null removes a
// key. The result is at most 64 KiB.
func MergeSettings(saved json.RawMessage, patch map[string]json.RawMessage) (json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	if len(saved) > 0 {
		if err := json.Unmarshal(saved, &out); err != nil {
			return nil, fmt.Errorf("saved settings: %w", err)
		}
	}
	for k, v := range patch {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if len(data) > 64<<10 {
		return nil, problem.InvalidField("settings", "must be at most 64 KiB")
	}
	return data, nil
}

// checkDestination asks the host-access guard about the host directories
// a destination's settings name.
func (bs *Backups) checkDestination(ctx context.Context, p *store.Principal, org uuid.UUID, schema, before, after json.RawMessage) error {
	had, err := hostaccess.DestinationUses(schema, before)
	if err != nil {
		return err
	}
	uses, err := hostaccess.DestinationUses(schema, after)
	if err != nil {
		return problem.InvalidField("settings", "%v", err)
	}
	return bs.s.deps.HostAccess.CheckChange(ctx, p, org, had, uses)
}

// CreateDestination adds a backup destination to org (admins and above).
func (bs *Backups) CreateDestination(ctx context.Context, p *store.Principal, org uuid.UUID, in NewDestination) (store.BackupDestination, error) {
	if err := Authorize(p, org, store.RoleAdmin, "organization"); err != nil {
		return store.BackupDestination{}, err
	}
	name := strings.TrimSpace(in.Name)
	if err := DestinationName(name); err != nil {
		return store.BackupDestination{}, err
	}
	settings, err := MergeSettings(nil, in.Settings)
	if err != nil {
		return store.BackupDestination{}, err
	}
	if err := bs.checkDestination(ctx, p, org, in.Schema, nil, settings); err != nil {
		return store.BackupDestination{}, err
	}
	return bs.s.deps.Store.CreateBackupDestination(ctx, org, name, strings.TrimSpace(in.PluginID), settings)
}

// UpdateDestination renames a destination or merges settings into it
// (admins and above).
func (bs *Backups) UpdateDestination(ctx context.Context, p *store.Principal, d store.BackupDestination, in DestinationChange) (store.BackupDestination, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleAdmin, "backup destination"); err != nil {
		return d, err
	}
	if in.PluginID != nil && strings.TrimSpace(*in.PluginID) != d.PluginID {
		return d, problem.InvalidField("plugin_id", "cannot be changed; create another destination")
	}
	name := d.Name
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		if err := DestinationName(name); err != nil {
			return d, err
		}
	}
	settings := d.Settings
	if in.Settings != nil {
		var err error
		if settings, err = MergeSettings(d.Settings, in.Settings); err != nil {
			return d, err
		}
	}
	if err := bs.checkDestination(ctx, p, d.OrganizationID, in.Schema, d.Settings, settings); err != nil {
		return d, err
	}
	return bs.s.deps.Store.UpdateBackupDestination(ctx, d.ID, name, settings)
}

// DeleteDestination forgets a destination no policy uses (admins and
// above); its objects stay where they are.
func (bs *Backups) DeleteDestination(ctx context.Context, p *store.Principal, d store.BackupDestination) error {
	if err := Authorize(p, d.OrganizationID, store.RoleAdmin, "backup destination"); err != nil {
		return err
	}
	return notFoundAs(bs.s.deps.Store.DeleteBackupDestination(ctx, d.ID), "backup destination")
}

// TestDestination asks the destination's plugin whether it is reachable
// and writable (members and above). A *problem.Error refuses the test; any
// other error is the plugin's answer that the destination failed.
func (bs *Backups) TestDestination(ctx context.Context, p *store.Principal, d store.BackupDestination) (string, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "backup destination"); err != nil {
		return "", err
	}
	ops, err := bs.s.dataOps()
	if err != nil {
		return "", err
	}
	return ops.TestDestination(ctx, d)
}

// ListObjects lists the backup objects on d under prefix, each with its
// recorded backup; with unrecorded only those no recorded backup points to
// (members and above). A *problem.Error refuses the listing; any other
// error is the destination's failure.
func (bs *Backups) ListObjects(ctx context.Context, p *store.Principal, d store.BackupDestination, prefix string, unrecorded bool) ([]BackupObject, error) {
	if err := Authorize(p, d.OrganizationID, store.RoleMember, "backup destination"); err != nil {
		return nil, err
	}
	if len(prefix) > 1024 || strings.ContainsRune(prefix, 0) {
		return nil, problem.Malformed("prefix", "must be at most 1024 bytes without NUL characters")
	}
	ops, err := bs.s.dataOps()
	if err != nil {
		return nil, err
	}
	objs, err := ops.ListObjects(ctx, d, prefix)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	recorded, err := bs.s.deps.Store.RecordedBackupKeys(ctx, d.ID, keys)
	if err != nil {
		return nil, fmt.Errorf("recorded backups: %w", err)
	}
	out := make([]BackupObject, 0, len(objs))
	for _, o := range objs {
		if id, ok := recorded[o.Key]; ok {
			if unrecorded {
				continue
			}
			o.BackupID = &id
		}
		out = append(out, o)
	}
	return out, nil
}

// Policies.

// Owner is what a backup policy, backup or restore is of: a database or
// an application's named volumes.
type Owner struct {
	Database, Application *uuid.UUID
	Organization          uuid.UUID
	// Name is the database's or application's name.
	Name string
}

// DatabaseOwner is db as an Owner.
func DatabaseOwner(db store.Database) Owner {
	return Owner{Database: &db.ID, Organization: db.OrganizationID, Name: db.Name}
}

// ApplicationOwner is app as an Owner.
func ApplicationOwner(app store.Application) Owner {
	return Owner{Application: &app.ID, Organization: app.OrganizationID, Name: app.Name}
}

// PolicyChange creates or changes a backup policy; nil fields keep their
// value (on create: the defaults UTC, keep 7, 2 retries, enabled).
type PolicyChange struct {
	DestinationID *uuid.UUID
	Schedule      *string
	TimeZone      *string
	Prefix        *string
	KeepLatest    *int
	Retries       *int
	Enabled       *bool
	StopService   *bool
}

// apply returns the policy in with the change applied.
func (c PolicyChange) apply(in PolicyInput) PolicyInput {
	if c.DestinationID != nil {
		in.Destination = *c.DestinationID
	}
	if c.Schedule != nil {
		in.Schedule = strings.TrimSpace(*c.Schedule)
	}
	if c.TimeZone != nil {
		in.TimeZone = strings.TrimSpace(*c.TimeZone)
	}
	if c.Prefix != nil {
		in.Prefix = strings.Trim(strings.TrimSpace(*c.Prefix), "/")
	}
	if c.KeepLatest != nil {
		in.KeepLatest = *c.KeepLatest
	}
	if c.Retries != nil {
		in.Retries = *c.Retries
	}
	if c.Enabled != nil {
		in.Enabled = *c.Enabled
	}
	if c.StopService != nil {
		in.StopService = *c.StopService
	}
	return in
}

// PolicyInput is a complete backup policy.
type PolicyInput struct {
	Destination uuid.UUID
	store.BackupPolicySpec
	// ForDatabase is set for a database's policy (stop_service is then refused).
	ForDatabase bool
}

// Validate checks the policy's fields (its destination is checked against
// the organization by the operation).
func (in PolicyInput) Validate() error {
	p := in.BackupPolicySpec
	switch {
	case p.Schedule == "":
		return problem.InvalidField("schedule", "is required (a cron expression such as \"0 3 * * *\" or @daily)")
	case strings.HasPrefix(p.Schedule, "TZ=") || strings.HasPrefix(p.Schedule, "CRON_TZ="):
		return problem.InvalidField("schedule", "must not carry a time zone; use time_zone")
	case p.TimeZone == "" || strings.EqualFold(p.TimeZone, "local"):
		return problem.InvalidField("time_zone", "must be an IANA time zone such as UTC or Europe/Paris")
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil {
		return problem.InvalidField("time_zone", "%q is not an IANA time zone such as UTC or Europe/Paris", p.TimeZone)
	}
	if _, err := backupjob.Parse(p.Schedule, p.TimeZone); err != nil {
		return problem.InvalidField("schedule", "%v", err)
	}
	switch {
	case len(p.Prefix) > 200 || strings.Contains(p.Prefix, "..") || strings.ContainsAny(p.Prefix, "\\\x00\n"):
		return problem.InvalidField("prefix", "must be a relative path of at most 200 characters without ..")
	case p.KeepLatest < 0 || p.KeepLatest > 10000:
		return problem.InvalidField("keep_latest", "must be from 0 to 10000 (0 keeps all)")
	case p.Retries < 0 || p.Retries > 10:
		return problem.InvalidField("retries", "must be from 0 to 10")
	case in.ForDatabase && p.StopService:
		return problem.InvalidField("stop_service", "applies to application volume backups only")
	case in.Destination == uuid.Nil:
		return problem.InvalidField("destination_id", "is required")
	}
	return nil
}

// destinationIn checks dest is a backup destination of org.
func (bs *Backups) destinationIn(ctx context.Context, org, dest uuid.UUID) error {
	if dest == uuid.Nil {
		return problem.InvalidField("destination_id", "is required")
	}
	d, err := bs.s.deps.Store.GetBackupDestination(ctx, dest)
	if isNotFound(err) || (err == nil && d.OrganizationID != org) {
		return problem.InvalidField("destination_id", "no backup destination %s in this organization", dest)
	}
	return err
}

// CreatePolicy schedules backups of owner (members and above).
func (bs *Backups) CreatePolicy(ctx context.Context, p *store.Principal, owner Owner, in PolicyChange) (store.BackupPolicy, error) {
	if err := Authorize(p, owner.Organization, store.RoleMember, owner.kind()); err != nil {
		return store.BackupPolicy{}, err
	}
	pol := in.apply(PolicyInput{BackupPolicySpec: store.BackupPolicySpec{TimeZone: "UTC", KeepLatest: 7, Retries: 2, Enabled: true},
		ForDatabase: owner.Database != nil})
	if err := pol.Validate(); err != nil {
		return store.BackupPolicy{}, err
	}
	if err := bs.destinationIn(ctx, owner.Organization, pol.Destination); err != nil {
		return store.BackupPolicy{}, err
	}
	return bs.s.deps.Store.CreateBackupPolicy(ctx, owner.Database, owner.Application, pol.Destination, pol.BackupPolicySpec)
}

// UpdatePolicy changes a backup policy (members and above).
func (bs *Backups) UpdatePolicy(ctx context.Context, p *store.Principal, pol store.BackupPolicy, in PolicyChange) (store.BackupPolicy, error) {
	if err := Authorize(p, pol.OrganizationID, store.RoleMember, "backup policy"); err != nil {
		return pol, err
	}
	next := in.apply(PolicyInput{Destination: pol.DestinationID, BackupPolicySpec: pol.BackupPolicySpec, ForDatabase: pol.DatabaseID != nil})
	if err := next.Validate(); err != nil {
		return pol, err
	}
	if err := bs.destinationIn(ctx, pol.OrganizationID, next.Destination); err != nil {
		return pol, err
	}
	return bs.s.deps.Store.UpdateBackupPolicy(ctx, pol.ID, next.Destination, next.BackupPolicySpec)
}

// DeletePolicy deletes a backup policy; its backups stay on the
// destination (members and above).
func (bs *Backups) DeletePolicy(ctx context.Context, p *store.Principal, pol store.BackupPolicy) error {
	if err := Authorize(p, pol.OrganizationID, store.RoleMember, "backup policy"); err != nil {
		return err
	}
	return notFoundAs(bs.s.deps.Store.DeleteBackupPolicy(ctx, pol.ID), "backup policy")
}

// Runs.

func (o Owner) kind() string {
	if o.Database != nil {
		return "database"
	}
	return "application"
}

func policyRun(pol store.BackupPolicy, status, trigger string) store.NewBackup {
	kind := "database"
	if pol.ApplicationID != nil {
		kind = "volume"
	}
	return store.NewBackup{PolicyID: &pol.ID, DatabaseID: pol.DatabaseID, ApplicationID: pol.ApplicationID,
		DestinationID: pol.DestinationID, Kind: kind, Status: status, Trigger: trigger}
}

// RunNow records an on-demand run of the policy and queues it, in one
// transaction (members and above).
func (bs *Backups) RunNow(ctx context.Context, p *store.Principal, pol store.BackupPolicy) (store.Backup, error) {
	if err := Authorize(p, pol.OrganizationID, store.RoleMember, "backup policy"); err != nil {
		return store.Backup{}, err
	}
	if bs.s.deps.Data.Ops == nil {
		return store.Backup{}, errNoData
	}
	return bs.enqueue(ctx, policyRun(pol, store.BackupQueued, store.TriggerManual), pol.Retries, nil)
}

// Enqueue records a backup run and queues it with retries, in one
// transaction: the record and its job exist together or not at all. A
// scheduled run (ScheduledAt set) is recorded and queued once however
// often this is called. Only berth itself (System) calls it.
func (bs *Backups) Enqueue(ctx context.Context, p *store.Principal, nb store.NewBackup, retries int) (store.Backup, error) {
	if p != System {
		return store.Backup{}, problem.ErrRole
	}
	return bs.enqueue(ctx, nb, retries, nil)
}

// enqueue records nb and inserts its job in one transaction, then runs
// also (when set) in that transaction.
func (bs *Backups) enqueue(ctx context.Context, nb store.NewBackup, retries int, also func(tx *store.Tx) error) (store.Backup, error) {
	jobs := bs.s.deps.Data.Jobs
	if jobs == nil {
		return store.Backup{}, problem.Down("backups cannot be queued on this server (no job queue)", nil)
	}
	var b store.Backup
	err := bs.s.deps.Store.WithTx(ctx, func(tx *store.Tx) error {
		var created bool
		var err error
		if b, created, err = tx.CreateBackup(ctx, nb); err != nil {
			return err
		}
		if created { // an existing scheduled run was queued with its record
			args := backupjob.Args{BackupID: b.ID}
			if nb.PolicyID != nil {
				args.PolicyID = *nb.PolicyID
			}
			opts := args.InsertOpts()
			opts.MaxAttempts = retries + 1
			job, _, err := jobs.InsertTx(ctx, tx.Pgx(), args, &opts)
			if err != nil {
				return fmt.Errorf("queue backup %s: %w", b.ID, err)
			}
			if err := tx.SetBackupJob(ctx, b.ID, job); err != nil {
				return err
			}
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
	return b, err
}

// RunScheduled records and queues the policy's run due at, and moves the
// policy's mark to at, in one transaction: a crash never loses or doubles
// a run. The scheduler calls it as System.
func (bs *Backups) RunScheduled(ctx context.Context, p *store.Principal, pol store.BackupPolicy, at time.Time) error {
	if err := Authorize(p, pol.OrganizationID, store.RoleMember, "backup policy"); err != nil {
		return err
	}
	nb := policyRun(pol, store.BackupQueued, store.TriggerSchedule)
	nb.ScheduledAt = &at
	_, err := bs.enqueue(ctx, nb, pol.Retries, func(tx *store.Tx) error { return tx.AdvancePolicySchedule(ctx, pol.ID, at) })
	return err
}

// MissedRuns reports runs of a policy missed while berth was down.
type MissedRuns struct {
	Policy store.BackupPolicy
	// Last is the latest missed time; Now the policy's new mark.
	Last, Now time.Time
	Message   string
	// Notify, when set, runs in the transaction once the missed record is
	// new (the scheduler queues its notification there).
	Notify func(ctx context.Context, tx pgx.Tx, b store.Backup)
}

// RecordMissed records one missed backup for the runs in m and moves the
// policy's mark to m.Now, in one transaction with m.Notify. It reports
// whether the record is new. The scheduler calls it as System.
func (bs *Backups) RecordMissed(ctx context.Context, p *store.Principal, m MissedRuns) (bool, error) {
	if err := Authorize(p, m.Policy.OrganizationID, store.RoleMember, "backup policy"); err != nil {
		return false, err
	}
	nb := policyRun(m.Policy, store.BackupMissed, store.TriggerSchedule)
	nb.Error, nb.ScheduledAt = m.Message, &m.Last
	var created bool
	err := bs.s.deps.Store.WithTx(ctx, func(tx *store.Tx) error {
		b, isNew, err := tx.CreateBackup(ctx, nb)
		if err != nil {
			return err
		}
		if err := tx.AdvancePolicySchedule(ctx, m.Policy.ID, m.Now); err != nil {
			return err
		}
		created = isNew
		if isNew && m.Notify != nil {
			m.Notify(ctx, tx.Pgx(), b)
		}
		return nil
	})
	return created, err
}
