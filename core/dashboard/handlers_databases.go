package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/schedule"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// DatabaseOps runs managed databases and their backups for the pages.
// core/app implements it with the database services and the backup runner.
type DatabaseOps interface {
	// Deploy applies db's settings and desired state and waits for it.
	Deploy(ctx context.Context, db store.Database) error
	// Delete removes db's service, and its volume when deleteVolume is set.
	Delete(ctx context.Context, db store.Database, deleteVolume bool) error
	// TestDestination checks a destination's settings with its plugin and
	// returns the plugin's message.
	TestDestination(ctx context.Context, dest store.BackupDestination) (string, error)
	// BackupNow records and enqueues an on-demand backup.
	BackupNow(ctx context.Context, nb store.NewBackup, retries int) (store.Backup, error)
	// RestoreBackup queues a restore of a recorded backup into target (the
	// backed-up database or another of the same engine) by user by; it runs
	// in the background and the database page shows its progress.
	RestoreBackup(ctx context.Context, backup store.Backup, target store.Database, by *uuid.UUID) (store.Restore, error)
}

var errNoDatabases = &pageError{status: fiber.StatusServiceUnavailable, title: "Databases unavailable",
	msg: "Database services are not available on this server (it has no Docker)."}

// dbRow is a database as lists show it.
type dbRow struct {
	DB   store.Database
	Host string
	Port int
	// Version is the database's version, or its engine's default.
	Version string
}

func newDBRow(db store.Database) dbRow {
	eng, _ := database.Lookup(db.Engine)
	v := db.Version
	if v == "" {
		v = eng.Version
	}
	return dbRow{DB: db, Host: db.ServiceName, Port: eng.Port, Version: v}
}

func databaseURL(id uuid.UUID) string { return "/databases/" + id.String() }

// engineOption is one engine of the "new database" form.
type engineOption struct {
	Engine  database.Engine
	Version string
}

func engineOptions() []engineOption {
	var out []engineOption
	for _, e := range database.Engines() {
		spec, _ := database.Lookup(e)
		out = append(out, engineOption{Engine: e, Version: spec.Version})
	}
	return out
}

// addDatabases lists the project's databases under their environments.
func (d *Dashboard) addDatabases(ctx context.Context, pv *projectView) error {
	dbs, _, err := d.store.ListDatabases(ctx, store.DatabaseFilter{Orgs: []uuid.UUID{pv.Project.OrganizationID}, Project: pv.Project.ID},
		store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	byEnv := map[uuid.UUID][]dbRow{}
	for _, db := range dbs {
		byEnv[db.EnvironmentID] = append(byEnv[db.EnvironmentID], newDBRow(db))
	}
	for i := range pv.Envs {
		pv.Envs[i].Databases = byEnv[pv.Envs[i].Env.ID]
	}
	return nil
}

var databaseFields = []string{"environment_id", "name", "engine", "version", "external_port", "cpu_limit", "memory_limit_mb"}

func (d *Dashboard) createDatabase(r *request) error {
	ctx := r.c.UserContext()
	fail := func(err error) error {
		return d.renderProject(r, inputStatus(err), map[string]*form{"database": formWith(r, err, databaseFields...)})
	}
	envID, err := uuid.Parse(r.c.FormValue("environment_id"))
	if err != nil {
		return fail(invalid("environment_id", "choose an environment"))
	}
	env, err := d.store.GetEnvironment(ctx, envID)
	if err != nil || env.ProjectID != r.project.ID {
		return fail(invalid("environment_id", "choose an environment of this project"))
	}
	spec := store.DatabaseSpec{
		Name:    strings.TrimSpace(r.c.FormValue("name")),
		Engine:  database.Engine(r.c.FormValue("engine")),
		Version: strings.TrimSpace(r.c.FormValue("version")),
	}
	if spec.ExternalPort, err = formInt("external_port", r.c.FormValue("external_port"), 0); err != nil {
		return fail(err)
	}
	if spec.CPULimit, err = formFloat("cpu_limit", r.c.FormValue("cpu_limit"), 0); err != nil {
		return fail(err)
	}
	if spec.MemoryLimitMB, err = formInt("memory_limit_mb", r.c.FormValue("memory_limit_mb"), 0); err != nil {
		return fail(err)
	}
	if err := validateDatabase(spec); err != nil {
		return fail(err)
	}
	if err := r.checkHostAccess(env.OrganizationID, nil, hostaccess.DatabaseUses(spec)); err != nil {
		return fail(err)
	}
	creds, err := database.NewCredentials(spec.Engine, spec.Name)
	if err != nil {
		return err
	}
	db, err := d.store.CreateDatabase(ctx, env.ID, spec, creds)
	if isInputError(err) {
		return fail(err)
	}
	if err != nil {
		return err
	}
	return r.seeOther(databaseURL(db.ID), "Database "+db.Name+" created. Deploy it to start it.")
}

// validateDatabase applies the API's rules for a database's settings.
func validateDatabase(s store.DatabaseSpec) error {
	if err := validateSlug("name", s.Name, 40); err != nil {
		return err
	}
	switch {
	case !s.Engine.Valid():
		return invalid("engine", "choose one of postgres, mysql, mariadb, mongodb, redis")
	case len(s.Version) > 128 || strings.ContainsAny(s.Version, " /:@\t\n\x00"):
		return invalid("version", "is not a valid image tag")
	case s.ExternalPort < 0 || s.ExternalPort > 65535:
		return invalid("external_port", "must be from 1 to 65535 (empty: internal only)")
	case s.CPULimit < 0 || s.CPULimit > 256:
		return invalid("cpu_limit", "must be from 0 to 256 CPUs (0: no limit)")
	case s.MemoryLimitMB != 0 && (s.MemoryLimitMB < 6 || s.MemoryLimitMB > 1<<20):
		return invalid("memory_limit_mb", "must be 0 (no limit) or from 6 to 1048576 MiB")
	}
	return nil
}

// connectionView is how to reach a database, credentials included; only
// members get one.
type connectionView struct {
	User, Password, Database, URL string
}

// policyRow is a backup policy with its destination's name.
type policyRow struct {
	store.BackupPolicy
	Destination string
}

// restoreRow is one restore as the list shows it.
type restoreRow struct {
	store.Restore
	// Progress is the bytes read of the backup object, e.g. "1.2 MiB of 4.0 MiB".
	Progress string
}

// backupRow is one backup as the list shows it.
type backupRow struct {
	store.Backup
	Size, SHA string
}

type databaseData struct {
	Row          dbRow
	Project      store.Project
	Env          store.Environment
	Conn         *connectionView
	Policies     []policyRow
	Destinations []store.BackupDestination
	Backups      []backupRow
	// Restorable are the succeeded backups; Targets the databases of the
	// same engine a backup can be restored into (this one first).
	Restorable []store.Backup
	Targets    []store.Database
	// Pending is set while a backup is queued or running: the list refreshes.
	Pending bool
	// Restores are the latest restores into this database; RestoresPending
	// is set while one is queued or running (the list refreshes).
	Restores           []restoreRow
	RestoresPending    bool
	CanEdit, CanDelete bool
	Available          bool
}

func (d *Dashboard) databasePage(r *request) error {
	return d.renderDatabase(r, fiber.StatusOK, nil)
}

func (d *Dashboard) renderDatabase(r *request, status int, forms map[string]*form) error {
	ctx := r.c.UserContext()
	db := r.database
	data := databaseData{Row: newDBRow(db), CanEdit: r.can(db.OrganizationID, store.RoleMember),
		CanDelete: r.can(db.OrganizationID, store.RoleAdmin), Available: d.opts.Databases != nil}
	var err error
	if data.Project, err = d.store.GetProject(ctx, db.ProjectID); err != nil {
		return err
	}
	if data.Env, err = d.store.GetEnvironment(ctx, db.EnvironmentID); err != nil {
		return err
	}
	if data.CanEdit {
		eng, _ := database.Lookup(db.Engine)
		c := db.Credentials
		data.Conn = &connectionView{User: c.User, Password: c.Password, Database: c.Database,
			URL: eng.URL(c, db.ServiceName, eng.Port)}
	}
	if data.Destinations, _, err = d.store.ListBackupDestinations(ctx, []uuid.UUID{db.OrganizationID}, store.Page{Limit: maxListed}); err != nil {
		return err
	}
	names := map[uuid.UUID]string{}
	for _, dest := range data.Destinations {
		names[dest.ID] = dest.Name
	}
	policies, _, err := d.store.ListBackupPolicies(ctx, store.PolicyFilter{Orgs: []uuid.UUID{db.OrganizationID}, Database: db.ID},
		store.Page{Limit: maxListed})
	if err != nil {
		return err
	}
	for _, p := range policies {
		data.Policies = append(data.Policies, policyRow{BackupPolicy: p, Destination: names[p.DestinationID]})
	}
	backups, err := d.store.ListBackups(ctx, store.BackupFilter{Database: db.ID}, 50)
	if err != nil {
		return err
	}
	for _, b := range backups {
		row := backupRow{Backup: b}
		if b.Status == store.BackupSucceeded {
			row.Size = formatBytes(b.SizeBytes)
			data.Restorable = append(data.Restorable, b)
		}
		if len(b.SHA256) >= 12 {
			row.SHA = b.SHA256[:12]
		}
		if b.Status == store.BackupQueued || b.Status == store.BackupRunning {
			data.Pending = true
		}
		data.Backups = append(data.Backups, row)
	}
	restores, err := d.store.ListRestores(ctx, store.RestoreFilter{Database: db.ID}, 10)
	if err != nil {
		return err
	}
	for _, x := range restores {
		row := restoreRow{Restore: x}
		if x.BytesTotal > 0 {
			row.Progress = formatBytes(x.BytesRead) + " of " + formatBytes(x.BytesTotal)
		}
		if !x.Done() {
			data.RestoresPending = true
		}
		data.Restores = append(data.Restores, row)
	}
	if data.CanEdit {
		data.Targets = append(data.Targets, db)
		others, _, err := d.store.ListDatabases(ctx, store.DatabaseFilter{Orgs: []uuid.UUID{db.OrganizationID}}, store.Page{Limit: maxListed})
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ID != db.ID && o.Engine == db.Engine {
				data.Targets = append(data.Targets, o)
			}
		}
	}
	if forms == nil {
		forms = map[string]*form{}
	}
	if _, ok := forms["policy"]; !ok {
		forms["policy"] = &form{Values: map[string]string{"time_zone": "UTC", "keep_latest": "7", "retries": "2", "enabled": "on",
			"schedule": "@daily"}}
	}
	return r.render(status, "database", &view{Title: db.Name, Nav: "projects", Data: data, forms: forms})
}

// formatBytes renders a size for people: 512 B, 3.4 MiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// databaseAction sets the desired state (when state is set) and deploys,
// waiting until the database is healthy.
func (d *Dashboard) databaseAction(state string) func(*request) error {
	return func(r *request) error {
		if d.opts.Databases == nil {
			return errNoDatabases
		}
		ctx := r.c.UserContext()
		db := r.database
		if state != "" {
			if err := d.store.SetDatabaseState(ctx, db.ID, state); err != nil {
				return err
			}
			db.DesiredState = state
		}
		verb := map[string]string{"": "deployed", store.DatabaseRunning: "started", store.DatabaseStopped: "stopped"}[state]
		if err := d.opts.Databases.Deploy(ctx, db); err != nil {
			return d.renderDatabase(r, fiber.StatusBadGateway, map[string]*form{"action": {Message: "The database could not be " + verb + ": " + err.Error()}})
		}
		return r.seeOther(databaseURL(db.ID), "Database "+db.Name+" "+verb+".")
	}
}

// deleteDatabase removes the database's service (and its volume when asked)
// and its record, after confirmation.
func (d *Dashboard) deleteDatabase(r *request) error {
	db := r.database
	deleteVolume := r.c.FormValue("delete_volume") == "on"
	if r.c.FormValue("confirmed") != "yes" {
		text := "This removes the database's service and its backup policies. Its data volume " + db.VolumeName + " is kept."
		if deleteVolume {
			text = "This removes the database's service, its backup policies AND its data volume " + db.VolumeName + ": the data is gone for good."
		}
		return r.confirm("Delete database "+db.Name+"?", text, "Delete database", databaseURL(db.ID), "delete_volume")
	}
	ctx := r.c.UserContext()
	if d.opts.Databases != nil {
		if err := d.opts.Databases.Delete(ctx, db, deleteVolume); err != nil {
			return fmt.Errorf("remove database service: %w", err)
		}
	}
	if err := d.store.DeleteDatabase(ctx, db.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	msg := "Database " + db.Name + " deleted; its volume " + db.VolumeName + " was kept."
	if deleteVolume {
		msg = "Database " + db.Name + " and its volume deleted."
	}
	return r.seeOther("/projects/"+db.ProjectID.String(), msg)
}

var policyFields = []string{"destination_id", "schedule", "time_zone", "prefix", "keep_latest", "retries", "enabled"}

func (d *Dashboard) createPolicy(r *request) error {
	ctx := r.c.UserContext()
	db := r.database
	fail := func(err error) error {
		return d.renderDatabase(r, fiber.StatusUnprocessableEntity, map[string]*form{"policy": formWith(r, err, policyFields...)})
	}
	spec := store.BackupPolicySpec{
		Schedule: strings.TrimSpace(r.c.FormValue("schedule")),
		TimeZone: strings.TrimSpace(r.c.FormValue("time_zone")),
		Prefix:   strings.Trim(strings.TrimSpace(r.c.FormValue("prefix")), "/"),
		Enabled:  r.c.FormValue("enabled") == "on",
	}
	if spec.TimeZone == "" {
		spec.TimeZone = "UTC"
	}
	var err error
	if spec.KeepLatest, err = formInt("keep_latest", r.c.FormValue("keep_latest"), 7); err != nil {
		return fail(err)
	}
	if spec.Retries, err = formInt("retries", r.c.FormValue("retries"), 2); err != nil {
		return fail(err)
	}
	dest, err := uuid.Parse(r.c.FormValue("destination_id"))
	if err != nil {
		return fail(invalid("destination_id", "choose a backup destination"))
	}
	if dst, err := d.store.GetBackupDestination(ctx, dest); err != nil || dst.OrganizationID != db.OrganizationID {
		return fail(invalid("destination_id", "choose a backup destination of this organization"))
	}
	if err := validatePolicy(spec); err != nil {
		return fail(err)
	}
	if _, err := d.store.CreateBackupPolicy(ctx, &db.ID, nil, dest, spec); err != nil {
		if isInputError(err) {
			return fail(err)
		}
		return err
	}
	return r.seeOther(databaseURL(db.ID)+"#policies", "Backup policy created: "+spec.Schedule+" ("+spec.TimeZone+").")
}

// validatePolicy applies the API's rules for a backup policy.
func validatePolicy(p store.BackupPolicySpec) error {
	if p.Schedule == "" {
		return invalid("schedule", "is required, e.g. @daily or 0 3 * * *")
	}
	if _, err := schedule.Parse(p.Schedule, p.TimeZone); err != nil {
		field := "schedule"
		if strings.Contains(err.Error(), "time zone") {
			field = "time_zone"
		}
		return invalid(field, "%v", err)
	}
	switch {
	case len(p.Prefix) > 200 || strings.Contains(p.Prefix, "..") || strings.ContainsAny(p.Prefix, "\\\x00\n"):
		return invalid("prefix", "must be a relative path of at most 200 characters without ..")
	case p.KeepLatest < 0 || p.KeepLatest > 10000:
		return invalid("keep_latest", "must be from 0 (keep all) to 10000")
	case p.Retries < 0 || p.Retries > 10:
		return invalid("retries", "must be from 0 to 10")
	}
	return nil
}

// policyOwnerURL is the page of the database or application a policy
// backs up.
func policyOwnerURL(p store.BackupPolicy) string {
	if p.DatabaseID != nil {
		return databaseURL(*p.DatabaseID)
	}
	if p.ApplicationID != nil {
		return appURL(*p.ApplicationID)
	}
	return "/"
}

func (d *Dashboard) backupNow(r *request) error {
	if d.opts.Databases == nil {
		return errNoDatabases
	}
	p := r.policy
	kind := "database"
	if p.ApplicationID != nil {
		kind = "volume"
	}
	_, err := d.opts.Databases.BackupNow(r.c.UserContext(), store.NewBackup{PolicyID: &p.ID, DatabaseID: p.DatabaseID,
		ApplicationID: p.ApplicationID, DestinationID: p.DestinationID, Kind: kind, Status: store.BackupQueued,
		Trigger: store.TriggerManual}, p.Retries)
	if err != nil {
		return err
	}
	return r.seeOther(policyOwnerURL(p)+"#backups", "Backup queued. The list below refreshes until it has finished.")
}

func (d *Dashboard) deletePolicy(r *request) error {
	p := r.policy
	if r.c.FormValue("confirmed") != "yes" {
		return r.confirm("Delete this backup policy?", "No more backups are scheduled by it. Its backups stay on the destination.",
			"Delete policy", policyOwnerURL(p))
	}
	if err := d.store.DeleteBackupPolicy(r.c.UserContext(), p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return r.seeOther(policyOwnerURL(p)+"#policies", "Backup policy deleted; its backups were kept.")
}

// restoreDatabase restores one of this database's succeeded backups into
// this database or another of the same engine in the organization.
func (d *Dashboard) restoreDatabase(r *request) error {
	ctx := r.c.UserContext()
	db := r.database
	fail := func(status int, err error) error {
		return d.renderDatabase(r, status, map[string]*form{"restore": formWith(r, err, "backup_id", "target_id")})
	}
	if d.opts.Databases == nil {
		return errNoDatabases
	}
	backupID, err := uuid.Parse(r.c.FormValue("backup_id"))
	if err != nil {
		return fail(fiber.StatusUnprocessableEntity, invalid("backup_id", "choose a backup"))
	}
	b, err := d.store.GetBackup(ctx, backupID)
	if err != nil || b.DatabaseID == nil || *b.DatabaseID != db.ID || b.Status != store.BackupSucceeded {
		return fail(fiber.StatusUnprocessableEntity, invalid("backup_id", "choose a succeeded backup of this database"))
	}
	target := db
	if v := r.c.FormValue("target_id"); v != "" && v != db.ID.String() {
		id, err := uuid.Parse(v)
		if err == nil {
			target, err = d.store.GetDatabase(ctx, id)
		}
		if err != nil || target.OrganizationID != db.OrganizationID || target.Engine != db.Engine {
			return fail(fiber.StatusUnprocessableEntity, invalid("target_id", "choose a %s database of this organization", db.Engine))
		}
	}
	var by *uuid.UUID
	if r.p != nil {
		by = &r.p.User.ID
	}
	if _, err := d.opts.Databases.RestoreBackup(ctx, b, target, by); err != nil {
		d.log.Warn("queueing a restore failed", "backup", b.ID, "database", target.ID, "err", err)
		return fail(fiber.StatusBadGateway, fmt.Errorf("restore failed: %w", err))
	}
	return r.seeOther(databaseURL(target.ID)+"#restores", "Restore of the backup from "+b.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")+
		" into "+target.Name+" queued: it is verified, loaded into a fresh database and swapped in only once complete. Its progress shows below.")
}
