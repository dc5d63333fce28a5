package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

type gitConnection struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	Provider       string `json:"provider"`
	BaseURL        string `json:"base_url"`
	CredentialKind string `json:"credential_kind"`
}

type repository struct {
	FullName      string `json:"full_name"`
	CloneURL      string `json:"clone_url"`
	DefaultBranch string `json:"default_branch"`
	Private       bool   `json:"private"`
}

type branch struct {
	Name    string `json:"name"`
	Commit  string `json:"commit"`
	Default bool   `json:"default"`
}

type preview struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	PreviewNumber  int    `json:"preview_number"`
	PreviewHeadRef string `json:"preview_head_ref"`
	ServiceName    string `json:"service_name"`
}

// secretValue reads a secret flag's value; "-" reads it from stdin, so it
// stays out of the process list and shell history.
func secretValue(e *Env, v string) (string, error) {
	if v != "-" {
		return v, nil
	}
	data, err := io.ReadAll(io.LimitReader(e.Stdin, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

func gitCmds() []command {
	return []command{
		simple("connect", "PROVIDER", "Connect a git host account (github, gitlab, gitea, bitbucket...) with a token, a username and app password, or a GitHub App. Pass - as a secret to read it from stdin.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			name := fs.String("name", "", "connection name (required)")
			org := fs.String("org", "", "organization id (default: your only organization)")
			baseURL := fs.String("base-url", "", "API root of a self-hosted instance")
			token := fs.String("access-token", "", "the git host's access token (- reads stdin; --token is the berth API key)")
			user := fs.String("username", "", "username (with --app-password)")
			appPassword := fs.String("app-password", "", "app password (- reads stdin)")
			appID := fs.String("app-id", "", "GitHub App id")
			installation := fs.String("installation-id", "", "GitHub App installation id")
			keyFile := fs.String("private-key-file", "", "GitHub App private key (PEM file)")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				creds := map[string]string{}
				var err error
				if *token != "" {
					if creds["token"], err = secretValue(e, *token); err != nil {
						return err
					}
				}
				if *user != "" || *appPassword != "" {
					creds["username"] = *user
					if creds["app_password"], err = secretValue(e, *appPassword); err != nil {
						return err
					}
				}
				if *appID != "" || *installation != "" || *keyFile != "" {
					creds["app_id"], creds["installation_id"] = *appID, *installation
					if *keyFile != "" {
						key, err := os.ReadFile(*keyFile)
						if err != nil {
							return usageErr("--private-key-file: %v", err)
						}
						creds["private_key"] = string(key)
					}
				}
				body := map[string]any{"name": *name, "provider": args[0], "base_url": *baseURL, "credentials": creds}
				if *org != "" {
					body["organization_id"] = *org
				}
				var out map[string]any
				if err := c.Do(ctx, "POST", api+"/git-connections", nil, body, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		simple("connections", "", "List git connections.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, _ []string) error {
				cs, err := listAll[gitConnection](ctx, c, api+"/git-connections", nil)
				if err != nil {
					return err
				}
				return e.print(orEmpty(cs), []string{"ID", "NAME", "PROVIDER", "CREDENTIALS", "BASE URL"}, func(i int) []string {
					return []string{cs[i].ID, cs[i].Name, cs[i].Provider, cs[i].CredentialKind, cs[i].BaseURL}
				}, len(cs))
			}
		}),
		simple("test", "CONNECTION_ID", "Check a connection's credentials by listing its repositories.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var out map[string]any
				if err := c.Do(ctx, "POST", api+"/git-connections/"+url.PathEscape(args[0])+"/test", nil, nil, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		simple("repos", "CONNECTION_ID", "List the repositories a connection can see.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			query := fs.String("query", "", "filter by name")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var all []repository
				q := url.Values{}
				if *query != "" {
					q.Set("query", *query)
				}
				for pages := 0; pages < 100; pages++ {
					var p struct {
						Items []repository `json:"items"`
						Next  string       `json:"next_page_token"`
					}
					if err := c.Do(ctx, "GET", api+"/git-connections/"+url.PathEscape(args[0])+"/repositories", q, nil, &p); err != nil {
						return err
					}
					all = append(all, p.Items...)
					if p.Next == "" {
						break
					}
					q.Set("page_token", p.Next)
				}
				return e.print(orEmpty(all), []string{"REPOSITORY", "DEFAULT BRANCH", "PRIVATE", "CLONE URL"}, func(i int) []string {
					return []string{all[i].FullName, all[i].DefaultBranch, fmt.Sprint(all[i].Private), all[i].CloneURL}
				}, len(all))
			}
		}),
		simple("branches", "CONNECTION_ID REPOSITORY", "List a repository's branches.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				if len(args) < 2 {
					return usageErr("berth git branches CONNECTION_ID REPOSITORY")
				}
				var p struct {
					Items []branch `json:"items"`
				}
				if err := c.Do(ctx, "GET", api+"/git-connections/"+url.PathEscape(args[0])+"/branches", url.Values{"repository": {args[1]}}, nil, &p); err != nil {
					return err
				}
				bs := p.Items
				return e.print(orEmpty(bs), []string{"BRANCH", "COMMIT", "DEFAULT"}, func(i int) []string {
					return []string{bs[i].Name, bs[i].Commit, fmt.Sprint(bs[i].Default)}
				}, len(bs))
			}
		}),
		deleteCmd("disconnect", "CONNECTION_ID", "Delete a git connection.", "/git-connections/"),
	}
}

// appWebhookCmds are `berth apps webhook` and `berth apps previews`.
func appWebhookCmds() []command {
	return []command{
		simple("webhook", "APP_ID", "Show the application's webhook URLs and secret; --rotate replaces the secret, --deploy-token creates a new deploy token (shown once).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			rotate := fs.Bool("rotate", false, "replace the webhook signing secret")
			token := fs.Bool("deploy-token", false, "create a new deploy token for the CI and image URLs")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				base := api + "/applications/" + url.PathEscape(args[0]) + "/webhook"
				method, path := "GET", base
				switch {
				case *token:
					method, path = "POST", base+"/deploy-token"
				case *rotate:
					method, path = "POST", base+"/secret"
				}
				var out map[string]any
				if err := c.Do(ctx, method, path, nil, nil, &out); err != nil {
					return err
				}
				return e.printObject(out)
			}
		}),
		simple("previews", "APP_ID", "List the application's preview deployments.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var p struct {
					Items []preview `json:"items"`
				}
				if err := c.Do(ctx, "GET", api+"/applications/"+url.PathEscape(args[0])+"/previews", nil, nil, &p); err != nil {
					return err
				}
				ps := p.Items
				return e.print(orEmpty(ps), []string{"ID", "PR", "BRANCH", "NAME", "SERVICE"}, func(i int) []string {
					return []string{ps[i].ID, fmt.Sprint(ps[i].PreviewNumber), ps[i].PreviewHeadRef, ps[i].Name, ps[i].ServiceName}
				}, len(ps))
			}
		}),
	}
}
