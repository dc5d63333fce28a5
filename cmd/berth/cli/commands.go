package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
)

type project struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	CreatedAt      string `json:"created_at"`
}

type environment struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
}

type application struct {
	ID            string `json:"id"`
	EnvironmentID string `json:"environment_id"`
	ProjectID     string `json:"project_id"`
	Name          string `json:"name"`
	SourceType    string `json:"source_type"`
	GitRepository string `json:"git_repository"`
	GitRef        string `json:"git_ref"`
	Image         string `json:"image"`
	BuildType     string `json:"build_type"`
	Port          int    `json:"port"`
	Replicas      int    `json:"replicas"`
	ServiceName   string `json:"service_name"`
}

type domain struct {
	ID         string `json:"id"`
	Host       string `json:"host"`
	PathPrefix string `json:"path_prefix"`
	Port       int    `json:"port"`
	HTTPS      string `json:"https"`
}

type variable struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

const api = "/api/v1"

// listAll follows next_cursor until every page is read.
func listAll[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", "200")
	var all []T
	for {
		var p page[T]
		if err := c.Do(ctx, "GET", path, q, nil, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all, nil
		}
		q.Set("cursor", *p.NextCursor)
	}
}

func groups() []group {
	return []group{
		{name: "setup", summary: "create the first administrator with the setup token, and log in", commands: []command{setupCmd()}},
		{name: "login", summary: "log in to a berth server and save an API key", commands: []command{loginCmd()}},
		{name: "logout", summary: "revoke and forget the saved API key", commands: []command{logoutCmd()}},
		{name: "whoami", summary: "show the logged-in user", commands: []command{whoamiCmd()}},
		{name: "projects", summary: "list, create, show, change and delete projects", commands: projectCmds()},
		{name: "envs", summary: "list, create and delete a project's environments", commands: envCmds()},
		{name: "apps", summary: "list, create, show, change and delete applications", commands: appCmds()},
		{name: "domains", summary: "list, add and remove an application's domains", commands: domainCmds()},
		{name: "vars", summary: "list, set and unset environment variables", commands: varCmds()},
		{name: "deploy", summary: "deploy an application (--follow streams its log)", commands: deployCmds()},
		{name: "deployments", summary: "list, inspect, follow, compare, cancel and roll back deployments", commands: deploymentCmds()},
		{name: "logs", summary: "print an application's or a database's logs (--follow streams them live)", commands: logsCmds()}, // issue 17, logs
		{name: "git", summary: "connect git hosts, list their repositories and branches", commands: gitCmds()},
		{name: "db", summary: "create, list, show, start, stop, deploy and delete managed databases; print their URL", commands: dbCmds()},
		{name: "backups", summary: "list backups, back up now (--follow) and restore; see also `backups destinations` and `backups policies`", commands: backupCmds()},
		{name: "backups destinations", summary: "list, create, test and delete backup destinations; list their objects", commands: destinationCmds()},
		{name: "backups policies", summary: "list, create and delete backup policies of databases and applications", commands: policyCmds()},
		// Request analytics (issue 17).
		{name: "requests", summary: "an application's requests from the proxy's access log: rate, status classes, latency, latest requests", commands: []command{requestsCmd()}},
		{name: "notify", summary: "list, show, create, change, test and delete notification channels; list event types", commands: notifyCmds()},
		{name: "alerts", summary: "list, show, create, change and delete threshold alert rules of applications, databases and servers", commands: alertCmds()}, // alerts feature
		{name: "metrics", summary: "an application's or a database's CPU, memory, network, block I/O and restarts over time", commands: metricsCmds()},         // metrics
		{name: "servers", summary: "the servers with their latest host figures (instance administrators)", commands: serverCmds()},                             // metrics
		{name: "instance", summary: "show and change what tenants may reach on the host (instance administrators)", commands: instanceCmds()},
		{name: "users", summary: "list users and grant or revoke instance administration (instance administrators)", commands: userCmds()},
	}
}

func setupCmd() command {
	return command{name: "", args: "", summary: "Create the first administrator of a fresh berth server with the one-time setup token it printed, then log in.",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			token := fs.String("setup-token", "", "the one-time setup token (required)")
			email := fs.String("email", "", "administrator email (required)")
			name := fs.String("name", "Administrator", "administrator name")
			org := fs.String("organization", "Default", "first organization's name")
			return func(ctx context.Context, e *Env, _ []string) error {
				if e.server == "" || *token == "" || *email == "" {
					return usageErr("berth setup needs --server, --setup-token and --email (the password is read from stdin)")
				}
				pw, err := e.readPassword("New password: ")
				if err != nil {
					return err
				}
				c := newClient(e.server, "")
				var sess struct {
					CSRFToken string `json:"csrf_token"`
				}
				if err := c.Do(ctx, "POST", api+"/setup", nil, map[string]string{"token": *token, "email": *email,
					"name": *name, "password": pw, "organization": *org}, &sess); err != nil {
					return err
				}
				c.csrf = sess.CSRFToken
				return finishLogin(ctx, e, c)
			}
		}}
}

func loginCmd() command {
	return command{name: "", args: "", summary: "Log in with email and password (read from the terminal or stdin), or save an existing API key with --token.",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			email := fs.String("email", "", "your email (not needed with --token)")
			return func(ctx context.Context, e *Env, _ []string) error {
				if e.server == "" {
					creds, _ := loadCredentials()
					e.server = creds.Server
				}
				if e.server == "" {
					return usageErr("berth login needs --server URL")
				}
				if e.token != "" {
					c := newClient(e.server, e.token)
					var me map[string]any
					if err := c.Do(ctx, "GET", api+"/auth/session", nil, nil, &me); err != nil {
						return err
					}
					if err := saveCredentials(ctx, Credentials{Server: c.Server, APIKey: e.token}); err != nil {
						return err
					}
					fmt.Fprintf(e.Stderr, "Logged in to %s\n", c.Server)
					return nil
				}
				if *email == "" {
					return usageErr("berth login needs --email (or --token KEY)")
				}
				pw, err := e.readPassword("Password: ")
				if err != nil {
					return err
				}
				c := newClient(e.server, "")
				var sess struct {
					CSRFToken string `json:"csrf_token"`
				}
				if err := c.Do(ctx, "POST", api+"/auth/login", nil, map[string]string{"email": *email, "password": pw}, &sess); err != nil {
					return err
				}
				c.csrf = sess.CSRFToken
				return finishLogin(ctx, e, c)
			}
		}}
}

// finishLogin turns a fresh session into a saved API key named after this host.
func finishLogin(ctx context.Context, e *Env, c *Client) error {
	host, _ := os.Hostname()
	var key struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := c.Do(ctx, "POST", api+"/api-keys", nil, map[string]any{"name": "cli@" + host}, &key); err != nil {
		return err
	}
	_ = c.Do(ctx, "POST", api+"/auth/logout", nil, nil, nil)
	if err := saveCredentials(ctx, Credentials{Server: c.Server, APIKey: key.Token, APIKeyID: key.ID}); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "Logged in to %s (API key %s saved)\n", c.Server, key.ID)
	return nil
}

func logoutCmd() command {
	return command{name: "", args: "", summary: "Revoke the API key `berth login` created and forget it.",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, _ []string) error {
				creds, err := loadCredentials()
				if err != nil {
					return err
				}
				if creds.APIKeyID != "" {
					c := newClient(creds.Server, creds.APIKey)
					if err := c.Do(ctx, "DELETE", api+"/api-keys/"+url.PathEscape(creds.APIKeyID), nil, nil, nil); err != nil && Code(err) != ExitAuth && Code(err) != ExitNotFound {
						return err
					}
				}
				if err := saveCredentials(ctx, Credentials{Server: creds.Server}); err != nil {
					return err
				}
				fmt.Fprintln(e.Stderr, "Logged out")
				return nil
			}
		}}
}

func whoamiCmd() command {
	return command{name: "", args: "", summary: "Show the logged-in user and their organizations.",
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			return func(ctx context.Context, e *Env, _ []string) error {
				c, err := e.client()
				if err != nil {
					return err
				}
				var me map[string]any
				if err := c.Do(ctx, "GET", api+"/auth/session", nil, nil, &me); err != nil {
					return err
				}
				return e.printObject(me)
			}
		}}
}

// simple builds a command that needs a client.
func simple(name, args, summary string, flags func(fs *flag.FlagSet) func(ctx context.Context, e *Env, c *Client, args []string) error) command {
	return command{name: name, args: args, summary: summary,
		flags: func(fs *flag.FlagSet) func(context.Context, *Env, []string) error {
			run := func(context.Context, *Env, *Client, []string) error { return nil }
			if flags != nil {
				run = flags(fs)
			}
			return func(ctx context.Context, e *Env, pos []string) error {
				c, err := e.client()
				if err != nil {
					return err
				}
				return run(ctx, e, c, pos)
			}
		}}
}

func projectCmds() []command {
	return []command{
		simple("list", "", "List projects.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				ps, err := listAll[project](ctx, c, api+"/projects", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(ps), []string{"ID", "NAME", "DESCRIPTION"}, func(i int) []string {
					return []string{ps[i].ID, ps[i].Name, ps[i].Description}
				}, len(ps))
			}
		}),
		simple("create", "NAME", "Create a project (with a production environment).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			desc := fs.String("description", "", "description")
			org := fs.String("organization", "", "organization id (needed when you belong to several)")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				body := map[string]any{"name": args[0], "description": *desc}
				if *org != "" {
					body["organization_id"] = *org
				}
				var out map[string]any
				if err := c.Do(ctx, "POST", api+"/projects", nil, body, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		getCmd("get", "PROJECT_ID", "Show a project.", "/projects/"),
		simple("update", "PROJECT_ID", "Change a project's name or description.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			name := fs.String("name", "", "new name")
			desc := fs.String("description", "", "new description")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				body := map[string]any{}
				setIfFlag(fs, body, "name", *name)
				setIfFlag(fs, body, "description", *desc)
				return patch(ctx, e, c, api+"/projects/"+url.PathEscape(args[0]), body)
			}
		}),
		teardownCmd("PROJECT_ID", "Delete a project with its environments, services and networks; volumes are kept unless --delete-volumes.", "/projects/"),
	}
}

func envCmds() []command {
	return []command{
		simple("list", "PROJECT_ID", "List a project's environments.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				es, err := listAll[environment](ctx, c, api+"/projects/"+url.PathEscape(args[0])+"/environments", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(es), []string{"ID", "NAME"}, func(i int) []string { return []string{es[i].ID, es[i].Name} }, len(es))
			}
		}),
		simple("create", "PROJECT_ID NAME", "Create an environment.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var out map[string]any
				if err := c.Do(ctx, "POST", api+"/projects/"+url.PathEscape(args[0])+"/environments", nil, map[string]any{"name": args[1]}, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		teardownCmd("ENVIRONMENT_ID", "Delete an environment with its services and network; volumes are kept unless --delete-volumes.", "/environments/"),
	}
}

// appFlags registers the application settings flags and returns a function
// building the request body from the flags actually given.
func appFlags(fs *flag.FlagSet) func() map[string]any {
	name := fs.String("name", "", "application name (lowercase letters, digits, '-')")
	image := fs.String("image", "", "run this image (source type image)")
	git := fs.String("git", "", "build from this git repository URL (source type git)")
	ref := fs.String("ref", "", "git branch, tag or commit")
	build := fs.String("build", "", "builder: auto (the default: a Dockerfile if there is one, else a zero-config builder), dockerfile, static, nixpacks...")
	port := fs.Int("port", 0, "container port HTTP traffic goes to")
	replicas := fs.Int("replicas", 1, "number of replicas")
	desc := fs.String("description", "", "description")
	readiness := fs.String("readiness", "", "how berth checks a new task before it takes traffic: port, http or none")
	readyPath := fs.String("readiness-path", "", "with --readiness http: the path that must answer 200-399")
	readyTimeout := fs.Int("readiness-timeout", 0, "seconds a new task may take to become ready (default 300)")
	soak := fs.Int("soak", 0, "seconds new tasks serve next to the old ones before those are retired (default 5)")
	grace := fs.Int("stop-grace", 0, "seconds a stopping task may finish its requests (default 10)")
	return func() map[string]any {
		body := map[string]any{}
		if *readiness != "" {
			r := map[string]any{"mode": *readiness}
			if *readyPath != "" {
				r["path"] = *readyPath
			}
			if *readyTimeout != 0 {
				r["timeout_seconds"] = *readyTimeout
			}
			body["readiness"] = r
		}
		setIfFlag(fs, body, "soak_seconds", *soak)
		setIfFlag(fs, body, "stop_grace_seconds", *grace)
		setIfFlag(fs, body, "name", *name)
		setIfFlag(fs, body, "description", *desc)
		setIfFlag(fs, body, "image", *image)
		setIfFlag(fs, body, "git_repository", *git)
		setIfFlag(fs, body, "git_ref", *ref)
		setIfFlag(fs, body, "build_type", *build)
		setIfFlag(fs, body, "port", *port)
		setIfFlag(fs, body, "replicas", *replicas)
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "image":
				body["source_type"] = "image"
			case "git":
				body["source_type"] = "git"
			}
		})
		return body
	}
}

func appCmds() []command {
	return append([]command{
		simple("list", "", "List applications.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			projectID := fs.String("project", "", "only this project's applications")
			envID := fs.String("env", "", "only this environment's applications")
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				q := url.Values{}
				if *projectID != "" {
					q.Set("project_id", *projectID)
				}
				if *envID != "" {
					q.Set("environment_id", *envID)
				}
				as, err := listAll[application](ctx, c, api+"/applications", q)
				if err != nil {
					return err
				}
				return e.print(orEmpty(as), []string{"ID", "NAME", "SOURCE", "PORT", "REPLICAS"}, func(i int) []string {
					src := as[i].Image
					if as[i].SourceType == "git" {
						src = as[i].GitRepository
						if as[i].GitRef != "" {
							src += "#" + as[i].GitRef
						}
					}
					return []string{as[i].ID, as[i].Name, src, fmt.Sprint(as[i].Port), fmt.Sprint(as[i].Replicas)}
				}, len(as))
			}
		}),
		simple("create", "ENVIRONMENT_ID", "Create an application in an environment (--name and --image or --git).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			body := appFlags(fs)
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var out map[string]any
				if err := c.Do(ctx, "POST", api+"/environments/"+url.PathEscape(args[0])+"/applications", nil, body(), &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		getCmd("get", "APP_ID", "Show an application.", "/applications/"),
		simple("update", "APP_ID", "Change an application's settings.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			body := appFlags(fs)
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				return patch(ctx, e, c, api+"/applications/"+url.PathEscape(args[0]), body())
			}
		}),
		deleteCmd("delete", "APP_ID", "Delete an application.", "/applications/"),
	}, append(appWebhookCmds(), maintenanceCmd())...)
}

func domainCmds() []command {
	return []command{
		simple("list", "APP_ID", "List an application's domains.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				ds, err := listAll[domain](ctx, c, api+"/applications/"+url.PathEscape(args[0])+"/domains", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(ds), []string{"ID", "HOST", "PATH", "PORT", "HTTPS"}, func(i int) []string {
					return []string{ds[i].ID, ds[i].Host, ds[i].PathPrefix, fmt.Sprint(ds[i].Port), ds[i].HTTPS}
				}, len(ds))
			}
		}),
		simple("add", "APP_ID HOST", "Route a domain to an application.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			path := fs.String("path", "", "path prefix")
			strip := fs.Bool("strip", false, "strip the path prefix")
			port := fs.Int("port", 0, "container port (default: the application's)")
			https := fs.String("https", "none", "none, letsencrypt or custom")
			redirect := fs.Bool("redirect-https", false, "redirect HTTP to HTTPS")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				body := map[string]any{"host": args[1], "path_prefix": *path, "strip_prefix": *strip, "port": *port,
					"https": *https, "redirect_https": *redirect}
				var out map[string]any
				if err := c.Do(ctx, "POST", api+"/applications/"+url.PathEscape(args[0])+"/domains", nil, body, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		deleteCmd("remove", "DOMAIN_ID", "Remove a domain.", "/domains/"),
	}
}

func varScope(fs *flag.FlagSet) func() (string, error) {
	app := fs.String("app", "", "application id")
	env := fs.String("env", "", "environment id")
	proj := fs.String("project", "", "project id")
	return func() (string, error) {
		set := 0
		var path string
		for _, s := range []struct{ v, p string }{{*app, "/applications/"}, {*env, "/environments/"}, {*proj, "/projects/"}} {
			if s.v != "" {
				set++
				path = api + s.p + url.PathEscape(s.v) + "/variables"
			}
		}
		if set != 1 {
			return "", usageErr("give exactly one of --app, --env or --project")
		}
		return path, nil
	}
}

func varCmds() []command {
	return []command{
		simple("list", "", "List variables of an application, environment or project.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			scope := varScope(fs)
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				path, err := scope()
				if err != nil {
					return err
				}
				var out struct {
					Items []variable `json:"items"`
				}
				if err := c.Do(ctx, "GET", path, nil, nil, &out); err != nil {
					return err
				}
				return e.print(out, []string{"KEY", "VALUE"}, func(i int) []string {
					return []string{out.Items[i].Key, out.Items[i].Value}
				}, len(out.Items))
			}
		}),
		simple("set", "KEY=VALUE...", "Set variables (references like ${{project.NAME}} are resolved at deploy time).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			scope := varScope(fs)
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				path, err := scope()
				if err != nil {
					return err
				}
				sort.Strings(args)
				for _, kv := range args {
					k, v, ok := strings.Cut(kv, "=")
					if !ok {
						return usageErr("%q is not KEY=VALUE", kv)
					}
					if err := c.Do(ctx, "PUT", path+"/"+url.PathEscape(k), nil, map[string]string{"value": v}, nil); err != nil {
						return err
					}
				}
				fmt.Fprintf(e.Stderr, "Set %d variable(s)\n", len(args))
				return nil
			}
		}),
		simple("unset", "KEY...", "Delete variables.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			scope := varScope(fs)
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				path, err := scope()
				if err != nil {
					return err
				}
				for _, k := range args {
					if err := c.Do(ctx, "DELETE", path+"/"+url.PathEscape(k), nil, nil, nil); err != nil {
						return err
					}
				}
				return nil
			}
		}),
	}
}

func getCmd(name, args, summary, prefix string) command {
	return simple(name, args, summary, func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
		return func(ctx context.Context, e *Env, c *Client, a []string) error {
			var out map[string]any
			if err := c.Do(ctx, "GET", api+prefix+url.PathEscape(a[0]), nil, nil, &out); err != nil {
				return err
			}
			return e.printObject(out)
		}
	})
}

func deleteCmd(name, args, summary, prefix string) command {
	return simple(name, args, summary, func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
		return func(ctx context.Context, e *Env, c *Client, a []string) error {
			if err := c.Do(ctx, "DELETE", api+prefix+url.PathEscape(a[0]), nil, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.Stderr, "Deleted %s\n", a[0])
			return nil
		}
	})
}

// teardownCmd deletes a project or an environment, with --delete-volumes
// to remove their volumes (and data) too.
func teardownCmd(args, summary, prefix string) command {
	return simple("delete", args, summary, func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
		delVols := fs.Bool("delete-volumes", false, "also delete the databases' and applications' volumes: the data is gone for good")
		return func(ctx context.Context, e *Env, c *Client, a []string) error {
			q := url.Values{}
			if *delVols {
				q.Set("delete_volumes", "true")
			}
			if err := c.Do(ctx, "DELETE", api+prefix+url.PathEscape(a[0]), q, nil, nil); err != nil {
				return err
			}
			if *delVols {
				fmt.Fprintf(e.Stderr, "Deleted %s and its volumes\n", a[0])
			} else {
				fmt.Fprintf(e.Stderr, "Deleted %s (volumes are kept)\n", a[0])
			}
			return nil
		}
	})
}

func patch(ctx context.Context, e *Env, c *Client, path string, body map[string]any) error {
	if len(body) == 0 {
		return usageErr("nothing to change: give at least one setting flag")
	}
	var out map[string]any
	if err := c.Do(ctx, "PATCH", path, nil, body, &out); err != nil {
		return err
	}
	return e.printObject(out)
}

// setIfFlag copies a flag's value into body only when the flag was given.
func setIfFlag(fs *flag.FlagSet, body map[string]any, key string, v any) {
	flagName := map[string]string{"git_repository": "git", "git_ref": "ref", "build_type": "build",
		"soak_seconds": "soak", "stop_grace_seconds": "stop-grace"}[key]
	if flagName == "" {
		flagName = key
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == flagName {
			body[key] = v
		}
	})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
