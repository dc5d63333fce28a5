package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// instanceSettings mirrors GET /api/v1/instance/settings.
type instanceSettings struct {
	AllowOrganizationCreation bool     `json:"allow_organization_creation"`
	BindMountRoots            []string `json:"bind_mount_roots"`
	LocalBackupRoots          []string `json:"local_backup_roots"`
	OutboundAllow             []string `json:"outbound_allow"`
	UpdatedAt                 string   `json:"updated_at"`
}

type user struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	InstanceAdmin bool   `json:"instance_admin"`
}

// listFlag collects a repeatable flag; given once as empty (--flag=) it
// clears the list.
type listFlag struct {
	values []string
	set    bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	l.set = true
	if v = strings.TrimSpace(v); v != "" {
		l.values = append(l.values, v)
	}
	return nil
}

// list returns the collected values, never nil (so [] clears).
func (l *listFlag) list() []string { return orEmpty(l.values) }

func instanceCmds() []command {
	return []command{
		simple("settings", "", "Show the instance settings, or change them with flags (instance administrators). A list flag replaces the saved list; give it once as --flag= to clear it.",
			func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
				orgs := fs.String("allow-org-creation", "", "true lets every signed-in user create organizations, false keeps it to instance administrators")
				var binds, backups, outbound listFlag
				fs.Var(&binds, "bind-mount-root", "host directory under which anyone may bind mount (repeatable)")
				fs.Var(&backups, "local-backup-root", "host directory under which organization admins may keep backup.local destinations (repeatable)")
				fs.Var(&outbound, "outbound-allow", "internal IP, CIDR or host name tenants' git connections and S3 endpoints may reach (repeatable)")
				return func(ctx context.Context, e *Env, c *Client, _ []string) error {
					body := map[string]any{}
					if *orgs != "" {
						v, err := strconv.ParseBool(*orgs)
						if err != nil {
							return usageErr("--allow-org-creation must be true or false, not %q", *orgs)
						}
						body["allow_organization_creation"] = v
					}
					for key, l := range map[string]*listFlag{"bind_mount_roots": &binds, "local_backup_roots": &backups, "outbound_allow": &outbound} {
						if l.set {
							body[key] = l.list()
						}
					}
					var in instanceSettings
					method := "GET"
					if len(body) > 0 {
						method = "PUT"
					} else {
						body = nil
					}
					if err := c.Do(ctx, method, api+"/instance/settings", nil, body, &in); err != nil {
						return err
					}
					if e.output == "json" {
						return e.printObject(in)
					}
					fmt.Fprintf(e.Stdout, "allow_organization_creation: %t\n", in.AllowOrganizationCreation)
					fmt.Fprintf(e.Stdout, "bind_mount_roots: %s\n", joinOrNone(in.BindMountRoots))
					fmt.Fprintf(e.Stdout, "local_backup_roots: %s\n", joinOrNone(in.LocalBackupRoots))
					fmt.Fprintf(e.Stdout, "outbound_allow: %s\n", joinOrNone(in.OutboundAllow))
					return nil
				}
			}),
	}
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, " ")
}

func userCmds() []command {
	setAdmin := func(name, summary string, admin bool) command {
		return simple(name, "USER", summary, func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				id, err := userID(ctx, c, args[0])
				if err != nil {
					return err
				}
				return patch(ctx, e, c, api+"/users/"+url.PathEscape(id), map[string]any{"instance_admin": admin})
			}
		})
	}
	return []command{
		simple("list", "", "List every user of the instance (instance administrators).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				us, err := listAll[user](ctx, c, api+"/users", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(us), []string{"ID", "EMAIL", "NAME", "INSTANCE ADMIN"}, func(i int) []string {
					return []string{us[i].ID, us[i].Email, us[i].Name, strconv.FormatBool(us[i].InstanceAdmin)}
				}, len(us))
			}
		}),
		setAdmin("grant-admin", "Make a user (id or email) an instance administrator.", true),
		setAdmin("revoke-admin", "Revoke a user's (id or email) instance administration; the last one cannot be revoked.", false),
	}
}

// userID resolves an email to a user id through the user list; anything
// else is taken as an id.
func userID(ctx context.Context, c *Client, v string) (string, error) {
	if !strings.Contains(v, "@") {
		return v, nil
	}
	us, err := listAll[user](ctx, c, api+"/users", nil)
	if err != nil {
		return "", err
	}
	for _, u := range us {
		if strings.EqualFold(u.Email, v) {
			return u.ID, nil
		}
	}
	return "", &exitError{code: ExitNotFound, msg: "no user " + v}
}
