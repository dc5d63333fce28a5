package dashboard

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

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
	var in service.DatabaseInput
	in.Name, in.Engine, in.Version = r.c.FormValue("name"), database.Engine(r.c.FormValue("engine")), r.c.FormValue("version")
	if in.ExternalPort, err = formInt("external_port", r.c.FormValue("external_port"), 0); err != nil {
		return fail(err)
	}
	if in.CPULimit, err = formFloat("cpu_limit", r.c.FormValue("cpu_limit"), 0); err != nil {
		return fail(err)
	}
	if in.MemoryLimitMB, err = formInt("memory_limit_mb", r.c.FormValue("memory_limit_mb"), 0); err != nil {
		return fail(err)
	}
	db, err := d.svc.Databases.Create(ctx, r.p, env, in)
	if isInputError(err) {
		return fail(err)
	}
	if err != nil {
		return err
	}
	return r.seeOther(databaseURL(db.ID), "Database "+db.Name+" created. Deploy it to start it.")
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
		CanDelete: r.can(db.OrganizationID, store.RoleAdmin), Available: d.svc.Databases.Available()}
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
		db, err := d.svc.Databases.Apply(r.c.UserContext(), r.p, r.database, state)
		verb := map[string]string{"": "deployed", store.DatabaseRunning: "started", store.DatabaseStopped: "stopped"}[state]
		if pe := problem.Classify(err); pe != nil && pe.Kind == problem.BadGateway {
			return d.renderDatabase(r, pe.Status(), map[string]*form{"action": {Message: "The database could not be " + verb + ": " + pe.Message}})
		} else if err != nil {
			return err
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
	if err := d.svc.Databases.Delete(r.c.UserContext(), r.p, db, deleteVolume); err != nil {
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
	db := r.database
	fail := func(err error) error {
		return d.renderDatabase(r, inputStatus(err), map[string]*form{"policy": formWith(r, err, policyFields...)})
	}
	sched, tz, prefix := r.c.FormValue("schedule"), r.c.FormValue("time_zone"), r.c.FormValue("prefix")
	enabled := r.c.FormValue("enabled") == "on"
	in := service.PolicyChange{Schedule: &sched, Prefix: &prefix, Enabled: &enabled}
	if strings.TrimSpace(tz) != "" {
		in.TimeZone = &tz
	}
	keep, err := formInt("keep_latest", r.c.FormValue("keep_latest"), 7)
	if err != nil {
		return fail(err)
	}
	retries, err := formInt("retries", r.c.FormValue("retries"), 2)
	if err != nil {
		return fail(err)
	}
	in.KeepLatest, in.Retries = &keep, &retries
	dest, err := uuid.Parse(r.c.FormValue("destination_id"))
	if err != nil {
		return fail(invalid("destination_id", "choose a backup destination"))
	}
	in.DestinationID = &dest
	p, err := d.svc.Backups.CreatePolicy(r.c.UserContext(), r.p, service.DatabaseOwner(db), in)
	if isInputError(err) {
		return fail(err)
	}
	if err != nil {
		return err
	}
	return r.seeOther(databaseURL(db.ID)+"#policies", "Backup policy created: "+p.Schedule+" ("+p.TimeZone+").")
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
	p := r.policy
	if _, err := d.svc.Backups.RunNow(r.c.UserContext(), r.p, p); err != nil {
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
	if err := d.svc.Backups.DeletePolicy(r.c.UserContext(), r.p, p); err != nil {
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
	if err := d.svc.Databases.Require(); err != nil {
		return err
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
	_, err = d.svc.Restores.RestoreDatabase(ctx, r.p, target, service.DatabaseRestore{BackupID: &b.ID})
	if isInputError(err) {
		return fail(inputStatus(err), err)
	} else if pe := problem.Classify(err); pe != nil && pe.Kind == problem.Internal {
		d.log.Warn("queueing a restore failed", "backup", b.ID, "database", target.ID, "err", err)
		return fail(fiber.StatusBadGateway, fmt.Errorf("restore failed: %w", err))
	} else if err != nil {
		return err
	}
	return r.seeOther(databaseURL(target.ID)+"#restores", "Restore of the backup from "+b.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")+
		" into "+target.Name+" queued: it is verified, loaded into a fresh database and swapped in only once complete. Its progress shows below.")
}
