package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"
)

type managedDatabase struct {
	ID            string  `json:"id"`
	EnvironmentID string  `json:"environment_id"`
	Name          string  `json:"name"`
	Engine        string  `json:"engine"`
	Version       string  `json:"version"`
	Image         string  `json:"image"`
	ServiceName   string  `json:"service_name"`
	ExternalPort  int     `json:"external_port"`
	CPULimit      float64 `json:"cpu_limit"`
	MemoryLimitMB int     `json:"memory_limit_mb"`
	DesiredState  string  `json:"desired_state"`
}

type backupDestination struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	PluginID string `json:"plugin_id"`
}

type backupPolicy struct {
	ID            string  `json:"id"`
	DatabaseID    *string `json:"database_id"`
	ApplicationID *string `json:"application_id"`
	DestinationID string  `json:"destination_id"`
	Schedule      string  `json:"schedule"`
	TimeZone      string  `json:"time_zone"`
	Prefix        string  `json:"prefix"`
	KeepLatest    int     `json:"keep_latest"`
	Retries       int     `json:"retries"`
	Enabled       bool    `json:"enabled"`
	StopService   bool    `json:"stop_service"`
}

type backup struct {
	ID         string  `json:"id"`
	PolicyID   *string `json:"policy_id"`
	Kind       string  `json:"kind"`
	Key        string  `json:"key"`
	SizeBytes  int64   `json:"size_bytes"`
	SHA256     string  `json:"sha256"`
	Status     string  `json:"status"`
	Error      string  `json:"error"`
	Trigger    string  `json:"trigger"`
	Attempts   int     `json:"attempts"`
	CreatedAt  string  `json:"created_at"`
	FinishedAt *string `json:"finished_at"`
}

type backupObject struct {
	Key       string  `json:"key"`
	SizeBytes int64   `json:"size_bytes"`
	Modified  string  `json:"modified"`
	BackupID  *string `json:"backup_id"`
}

func (b backup) finished() bool {
	return b.Status == "succeeded" || b.Status == "failed" || b.Status == "missed"
}

func dbPath(id string, rest ...string) string {
	return api + "/databases/" + url.PathEscape(id) + strings.Join(rest, "")
}

func dbCmds() []command {
	action := func(name, summary string) command {
		return simple(name, "DATABASE_ID", summary, func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				stop := spinner(e, name+" "+a[0])
				var d managedDatabase
				err := c.Do(ctx, "POST", dbPath(a[0], "/"+name), nil, nil, &d)
				stop()
				if err != nil {
					return err
				}
				return e.printObject(d)
			}
		})
	}
	return []command{
		simple("list", "", "List databases (--project or --env narrow it).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			projectID := fs.String("project", "", "only this project's databases")
			envID := fs.String("env", "", "only this environment's databases")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				q := url.Values{}
				if *projectID != "" {
					q.Set("project_id", *projectID)
				}
				if *envID != "" {
					q.Set("environment_id", *envID)
				}
				ds, err := listAll[managedDatabase](ctx, c, api+"/databases", q)
				if err != nil {
					return err
				}
				return e.print(orEmpty(ds), []string{"ID", "NAME", "ENGINE", "VERSION", "STATE", "HOST", "EXTERNAL PORT"}, func(i int) []string {
					port := "-"
					if ds[i].ExternalPort != 0 {
						port = strconv.Itoa(ds[i].ExternalPort)
					}
					return []string{ds[i].ID, ds[i].Name, ds[i].Engine, ds[i].Version, ds[i].DesiredState, ds[i].ServiceName, port}
				}, len(ds))
			}
		}),
		simple("create", "ENVIRONMENT_ID", "Create a database with generated credentials and deploy it (--no-deploy only records it).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			name := fs.String("name", "", "database name (required; lowercase letters, digits and '-')")
			engine := fs.String("engine", "", "postgres, mysql, mariadb, mongodb or redis (required)")
			version := fs.String("version", "", "image tag (default: the engine's)")
			image := fs.String("image", "", "image honouring the engine's official image contract (default: the engine's)")
			port := fs.Int("external-port", 0, "publish on this host port (default: internal only)")
			cpu := fs.Float64("cpu", 0, "CPU limit in CPUs (0: none)")
			mem := fs.Int("memory", 0, "memory limit in MiB (0: none)")
			noDeploy := fs.Bool("no-deploy", false, "only record the database; deploy it later with `berth db deploy`")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				if *name == "" || *engine == "" {
					return usageErr("berth db create needs --name and --engine")
				}
				body := map[string]any{"name": *name, "engine": *engine, "external_port": *port, "cpu_limit": *cpu, "memory_limit_mb": *mem}
				if *version != "" {
					body["version"] = *version
				}
				if *image != "" {
					body["image"] = *image
				}
				var d managedDatabase
				if err := c.Do(ctx, "POST", api+"/environments/"+url.PathEscape(a[0])+"/databases", nil, body, &d); err != nil {
					return err
				}
				if !*noDeploy {
					stop := spinner(e, "deploying "+d.Name)
					err := c.Do(ctx, "POST", dbPath(d.ID, "/deploy"), nil, nil, &d)
					stop()
					if err != nil {
						return fmt.Errorf("database %s created but not deployed (retry with `berth db deploy %s`): %w", d.ID, d.ID, err)
					}
				}
				return e.printObject(d)
			}
		}),
		getCmd("get", "DATABASE_ID", "Show a database.", "/databases/"),
		action("deploy", "Create or update the database's service and wait until it converged."),
		action("start", "Start the database and wait until it is healthy."),
		action("stop", "Stop the database (its service and volume are kept)."),
		simple("delete", "DATABASE_ID", "Delete a database's service; its volume is kept unless --delete-volume.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			delVol := fs.Bool("delete-volume", false, "also delete the data volume: the data is gone for good (admins)")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				q := url.Values{}
				if *delVol {
					q.Set("delete_volume", "true")
				}
				if err := c.Do(ctx, "DELETE", dbPath(a[0]), q, nil, nil); err != nil {
					return err
				}
				if *delVol {
					fmt.Fprintf(e.Stderr, "Deleted %s and its volume\n", a[0])
				} else {
					fmt.Fprintf(e.Stderr, "Deleted %s (its volume is kept)\n", a[0])
				}
				return nil
			}
		}),
		simple("url", "DATABASE_ID", "Print the internal connection URL (-o json: host, port, credentials too).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var conn map[string]any
				if err := c.Do(ctx, "GET", dbPath(a[0], "/connection"), nil, nil, &conn); err != nil {
					return err
				}
				if e.output == "json" {
					return e.printObject(conn)
				}
				_, err := fmt.Fprintln(e.Stdout, conn["url"])
				return err
			}
		}),
	}
}

// organizationOf returns --organization, or the caller's only organization.
func organizationOf(ctx context.Context, c *Client, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	var sess struct {
		Organizations []struct {
			ID string `json:"id"`
		} `json:"organizations"`
	}
	if err := c.Do(ctx, "GET", api+"/auth/session", nil, nil, &sess); err != nil {
		return "", err
	}
	if len(sess.Organizations) != 1 {
		return "", usageErr("you belong to %d organizations: give --org", len(sess.Organizations))
	}
	return sess.Organizations[0].ID, nil
}

// settingsFlag collects repeated --set KEY=VALUE; a VALUE that is valid JSON
// (true, 42, "x") is sent as is, anything else as a string.
type settingsFlag map[string]any

func (s settingsFlag) String() string { return "" }

func (s settingsFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	var parsed any
	if err := json.Unmarshal([]byte(val), &parsed); err == nil {
		s[k] = parsed
	} else {
		s[k] = val
	}
	return nil
}

func destinationCmds() []command {
	return []command{
		simple("list", "", "List an organization's backup destinations.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			org := fs.String("org", "", "organization id (default: your only organization)")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				id, err := organizationOf(ctx, c, *org)
				if err != nil {
					return err
				}
				ds, err := listAll[backupDestination](ctx, c, api+"/organizations/"+url.PathEscape(id)+"/backup-destinations", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(ds), []string{"ID", "NAME", "PLUGIN"}, func(i int) []string {
					return []string{ds[i].ID, ds[i].Name, ds[i].PluginID}
				}, len(ds))
			}
		}),
		simple("create", "NAME", "Create a backup destination on a backup plugin; settings are write-only.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			org := fs.String("org", "", "organization id (default: your only organization)")
			plugin := fs.String("plugin", "", "backup plugin id, e.g. backup.s3 or backup.local (required)")
			settings := settingsFlag{}
			fs.Var(settings, "set", "a plugin setting KEY=VALUE (repeatable), e.g. --set bucket=backups")
			secretStdin := fs.String("secret-stdin", "", "read this setting's value from stdin (e.g. secret_access_key)")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				if *plugin == "" {
					return usageErr("berth backups destinations create needs --plugin")
				}
				id, err := organizationOf(ctx, c, *org)
				if err != nil {
					return err
				}
				if *secretStdin != "" {
					v, err := e.readPassword(*secretStdin + ": ")
					if err != nil {
						return err
					}
					settings[*secretStdin] = v
				}
				var d backupDestination
				if err := c.Do(ctx, "POST", api+"/organizations/"+url.PathEscape(id)+"/backup-destinations", nil,
					map[string]any{"name": a[0], "plugin_id": *plugin, "settings": map[string]any(settings)}, &d); err != nil {
					return err
				}
				return e.printObject(d)
			}
		}),
		simple("test", "DESTINATION_ID", "Check the destination is reachable and writable (exit 1 if not).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var res struct {
					OK      bool   `json:"ok"`
					Message string `json:"message"`
				}
				if err := c.Do(ctx, "POST", api+"/backup-destinations/"+url.PathEscape(a[0])+"/test", nil, nil, &res); err != nil {
					return err
				}
				if err := e.printObject(res); err != nil {
					return err
				}
				if !res.OK {
					return &exitError{code: ExitError, msg: "destination test failed: " + res.Message}
				}
				return nil
			}
		}),
		simple("objects", "DESTINATION_ID", "List backup objects on a destination; BACKUP is the recorded backup, - for an object found only there.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			prefix := fs.String("prefix", "", "only keys starting with this")
			unrecorded := fs.Bool("unrecorded", false, "only objects no recorded backup points to")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				q := url.Values{}
				if *prefix != "" {
					q.Set("prefix", *prefix)
				}
				if *unrecorded {
					q.Set("unrecorded", "true")
				}
				var list struct {
					Items []backupObject `json:"items"`
				}
				if err := c.Do(ctx, "GET", api+"/backup-destinations/"+url.PathEscape(a[0])+"/objects", q, nil, &list); err != nil {
					return err
				}
				objs := list.Items
				return e.print(orEmpty(objs), []string{"KEY", "SIZE", "MODIFIED", "BACKUP"}, func(i int) []string {
					id := "-"
					if objs[i].BackupID != nil {
						id = *objs[i].BackupID
					}
					return []string{objs[i].Key, strconv.FormatInt(objs[i].SizeBytes, 10), objs[i].Modified, id}
				}, len(objs))
			}
		}),
		deleteCmd("delete", "DESTINATION_ID", "Delete a backup destination no policy uses.", "/backup-destinations/"),
	}
}

func policyCmds() []command {
	return []command{
		simple("list", "", "List the backup policies of a database (--database) or an application (--app).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			owner := policyOwnerFlags(fs)
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				base, err := owner()
				if err != nil {
					return err
				}
				ps, err := listAll[backupPolicy](ctx, c, base, nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(ps), []string{"ID", "SCHEDULE", "TIMEZONE", "DESTINATION", "KEEP", "RETRIES", "ENABLED"}, func(i int) []string {
					p := ps[i]
					return []string{p.ID, p.Schedule, p.TimeZone, p.DestinationID, strconv.Itoa(p.KeepLatest), strconv.Itoa(p.Retries), strconv.FormatBool(p.Enabled)}
				}, len(ps))
			}
		}),
		simple("create", "", "Create a backup policy for a database (--database) or an application's volumes (--app).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			owner := policyOwnerFlags(fs)
			dest := fs.String("destination", "", "backup destination id (required)")
			schedule := fs.String("schedule", "", `cron expression, e.g. "0 3 * * *" or @daily (required)`)
			tz := fs.String("timezone", "UTC", "IANA time zone of the schedule")
			prefix := fs.String("prefix", "", "key prefix on the destination")
			keep := fs.Int("keep", 7, "keep the latest N backups")
			retries := fs.Int("retries", 2, "retries of a failed run (0 to 10)")
			stopService := fs.Bool("stop-service", false, "stop the application during a volume backup")
			disabled := fs.Bool("disabled", false, "create the policy disabled")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				base, err := owner()
				if err != nil {
					return err
				}
				if *dest == "" || *schedule == "" {
					return usageErr("berth backups policies create needs --destination and --schedule")
				}
				body := map[string]any{"destination_id": *dest, "schedule": *schedule, "time_zone": *tz, "prefix": *prefix,
					"keep_latest": *keep, "retries": *retries, "enabled": !*disabled}
				if *stopService {
					body["stop_service"] = true
				}
				var p backupPolicy
				if err := c.Do(ctx, "POST", base, nil, body, &p); err != nil {
					return err
				}
				return e.printObject(p)
			}
		}),
		deleteCmd("delete", "POLICY_ID", "Delete a backup policy (its backups stay on the destination).", "/backup-policies/"),
	}
}

// policyOwnerFlags adds --database and --app and returns the policies path.
func policyOwnerFlags(fs *flag.FlagSet) func() (string, error) {
	db := fs.String("database", "", "database id")
	app := fs.String("app", "", "application id (volume backups)")
	return func() (string, error) {
		switch {
		case (*db == "") == (*app == ""):
			return "", usageErr("give exactly one of --database and --app")
		case *db != "":
			return dbPath(*db, "/backup-policies"), nil
		default:
			return api + "/applications/" + url.PathEscape(*app) + "/backup-policies", nil
		}
	}
}

func backupCmds() []command {
	return []command{
		simple("list", "", "List backups of a database (--database), an application's volumes (--app) or a policy (--policy), newest first.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			db := fs.String("database", "", "database id")
			app := fs.String("app", "", "application id (volume backups)")
			policy := fs.String("policy", "", "backup policy id")
			status := fs.String("status", "", "only backups in this status: queued, running, succeeded, failed or missed")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				var path string
				switch {
				case countSet(*db, *app, *policy) != 1:
					return usageErr("give exactly one of --database, --app and --policy")
				case *db != "":
					path = dbPath(*db, "/backups")
				case *app != "":
					path = api + "/applications/" + url.PathEscape(*app) + "/backups"
				default:
					path = api + "/backup-policies/" + url.PathEscape(*policy) + "/backups"
				}
				q := url.Values{}
				if *status != "" {
					q.Set("status", *status)
				}
				var list struct {
					Items []backup `json:"items"`
				}
				if err := c.Do(ctx, "GET", path, q, nil, &list); err != nil {
					return err
				}
				bs := list.Items
				return e.print(orEmpty(bs), []string{"ID", "KIND", "STATUS", "TRIGGER", "SIZE", "CREATED", "KEY", "ERROR"}, func(i int) []string {
					return []string{bs[i].ID, bs[i].Kind, bs[i].Status, bs[i].Trigger, strconv.FormatInt(bs[i].SizeBytes, 10), bs[i].CreatedAt, bs[i].Key, bs[i].Error}
				}, len(bs))
			}
		}),
		simple("now", "POLICY_ID", "Back up now; --follow waits until the backup finished (exit 1 if it failed).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			follow := fs.Bool("follow", false, "wait for the result, showing its progress")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var b backup
				if err := c.Do(ctx, "POST", api+"/backup-policies/"+url.PathEscape(a[0])+"/run", nil, nil, &b); err != nil {
					return err
				}
				if *follow {
					var err error
					if b, err = followBackup(ctx, e, c, b); err != nil {
						return err
					}
				}
				if err := e.printObject(b); err != nil {
					return err
				}
				if b.Status == "failed" || b.Status == "missed" {
					return &exitError{code: ExitError, msg: "backup " + b.ID + " failed: " + b.Error}
				}
				return nil
			}
		}),
		simple("restore", "", "Restore a backup: into a database (--database, with --backup ID or --destination ID --key KEY) or an application's volumes (--app, with --backup ID). The server verifies it, loads it into a fresh database and swaps it in once complete; this follows its progress until it ends (exit 1 if it failed or was cancelled; --detach returns once it is queued).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			db := fs.String("database", "", "database to restore into (the backed-up one or another of the same engine)")
			app := fs.String("app", "", "application whose volumes to restore (its service is stopped meanwhile)")
			id := fs.String("backup", "", "recorded backup id")
			dest := fs.String("destination", "", "destination id of an object not recorded here (databases only)")
			key := fs.String("key", "", "object key on --destination (see `berth backups destinations objects`)")
			detach := fs.Bool("detach", false, "return once the restore is queued (follow it with `berth backups restore-status`)")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				body := map[string]any{}
				switch {
				case *id != "" && *dest == "" && *key == "":
					body["backup_id"] = *id
				case *id == "" && *dest != "" && *key != "" && *app == "":
					body["destination_id"], body["key"] = *dest, *key
				default:
					return usageErr("give --backup, or (with --database) --destination and --key")
				}
				if countSet(*db, *app) != 1 {
					return usageErr("give exactly one of --database and --app")
				}
				path := dbPath(*db, "/restore")
				if *app != "" {
					path = api + "/applications/" + url.PathEscape(*app) + "/restore"
				}
				var r restoreRecord
				if err := c.Do(ctx, "POST", path, nil, body, &r); err != nil {
					return err
				}
				if *detach {
					fmt.Fprintf(e.Stderr, "Restore %s queued\n", r.ID)
					return e.printObject(r)
				}
				return finishRestore(ctx, e, c, r)
			}
		}),
		simple("restore-status", "RESTORE_ID", "Show a restore; --follow waits until it ended (exit 1 if it failed or was cancelled).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			follow := fs.Bool("follow", false, "wait for the result, showing its progress")
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var r restoreRecord
				if err := c.Do(ctx, "GET", api+"/restores/"+url.PathEscape(a[0]), nil, nil, &r); err != nil {
					return err
				}
				if !*follow {
					return e.printObject(r)
				}
				return finishRestore(ctx, e, c, r)
			}
		}),
		simple("restore-cancel", "RESTORE_ID", "Cancel a queued or running restore: the database keeps its previous data.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, a []string) error {
				var r restoreRecord
				if err := c.Do(ctx, "POST", api+"/restores/"+url.PathEscape(a[0])+"/cancel", nil, nil, &r); err != nil {
					return err
				}
				fmt.Fprintf(e.Stderr, "Restore %s: cancel requested\n", r.ID)
				return e.printObject(r)
			}
		}),
	}
}

// restoreRecord is a restore as the API returns it.
type restoreRecord struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	TargetName string `json:"target_name"`
	Status     string `json:"status"`
	Phase      string `json:"phase"`
	Error      string `json:"error"`
	BytesRead  int64  `json:"bytes_read"`
	BytesTotal int64  `json:"bytes_total"`
	CreatedAt  string `json:"created_at"`
	FinishedAt string `json:"finished_at,omitempty"`
}

func (r restoreRecord) ended() bool {
	return r.Status == "succeeded" || r.Status == "failed" || r.Status == "cancelled"
}

// finishRestore follows a restore until it ended, prints it and fails
// unless it succeeded.
func finishRestore(ctx context.Context, e *Env, c *Client, r restoreRecord) error {
	r, err := followRestore(ctx, e, c, r)
	if err != nil {
		return err
	}
	if err := e.printObject(r); err != nil {
		return err
	}
	if r.Status != "succeeded" {
		return &exitError{code: ExitError, msg: "restore " + r.ID + " " + r.Status + ": " + r.Error}
	}
	fmt.Fprintf(e.Stderr, "Restored into %s\n", r.TargetName)
	return nil
}

// followRestore polls a restore until it ended, showing its status, phase
// and the bytes read (a spinner line on a terminal, one line per change
// otherwise).
func followRestore(ctx context.Context, e *Env, c *Client, r restoreRecord) (restoreRecord, error) {
	started, last := time.Now(), ""
	tty := isTerminal(e.Stderr)
	frames := `|/-\`
	for i := 0; ; i++ {
		el := time.Since(started).Round(time.Second)
		line := fmt.Sprintf("restore %s into %s: %s, %s", r.ID, r.TargetName, r.Status, r.Phase)
		if r.BytesTotal > 0 && !r.ended() {
			line += fmt.Sprintf(" (%d%% of %d bytes)", r.BytesRead*100/r.BytesTotal, r.BytesTotal)
		}
		switch {
		case tty:
			fmt.Fprintf(e.Stderr, "\r\033[K%c %s  (%02d:%02d)", frames[i%len(frames)], line, int(el.Minutes()), int(el.Seconds())%60)
		case r.Status+r.Phase != last:
			fmt.Fprintln(e.Stderr, line)
		}
		last = r.Status + r.Phase
		if r.ended() {
			if tty {
				fmt.Fprintln(e.Stderr)
			}
			return r, nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(e.Stderr, "\nstopped following; restore %s goes on on the server (berth backups restore-status %s --follow)\n", r.ID, r.ID)
			return r, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if err := c.Do(ctx, "GET", api+"/restores/"+url.PathEscape(r.ID), nil, nil, &r); err != nil {
			return r, err
		}
	}
}

// countSet counts the non-empty values.
func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// followBackup polls a backup until it finished, showing its status.
func followBackup(ctx context.Context, e *Env, c *Client, b backup) (backup, error) {
	started, last := time.Now(), ""
	tty := isTerminal(e.Stderr)
	frames := `|/-\`
	for i := 0; ; i++ {
		el := time.Since(started).Round(time.Second)
		line := fmt.Sprintf("backup %s: %s (attempt %d)  (%02d:%02d)", b.ID, b.Status, b.Attempts, int(el.Minutes()), int(el.Seconds())%60)
		switch {
		case tty:
			fmt.Fprintf(e.Stderr, "\r%c %s", frames[i%len(frames)], line)
		case b.Status != last:
			fmt.Fprintln(e.Stderr, line)
		}
		last = b.Status
		if b.finished() {
			if tty {
				fmt.Fprintln(e.Stderr)
			}
			return b, nil
		}
		select {
		case <-ctx.Done():
			return b, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if err := c.Do(ctx, "GET", api+"/backups/"+url.PathEscape(b.ID), nil, nil, &b); err != nil {
			return b, err
		}
	}
}

// spinner shows label with a spinner on a terminal (a plain line otherwise)
// until the returned stop is called.
func spinner(e *Env, label string) (stop func()) {
	if !isTerminal(e.Stderr) {
		fmt.Fprintln(e.Stderr, label+"...")
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		started, frames := time.Now(), `|/-\`
		for i := 0; ; i++ {
			el := time.Since(started).Round(time.Second)
			fmt.Fprintf(e.Stderr, "\r%c %s  (%02d:%02d)", frames[i%len(frames)], label, int(el.Minutes()), int(el.Seconds())%60)
			select {
			case <-done:
				fmt.Fprintln(e.Stderr)
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
