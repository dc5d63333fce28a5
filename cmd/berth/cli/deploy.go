package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

type deployment struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Trigger       string `json:"trigger"`
	CommitSHA     string `json:"commit_sha"`
	Image         string `json:"image"`
	Step          string `json:"step"`
	Error         string `json:"error"`
	QueuePosition int    `json:"queue_position"`
	CreatedAt     string `json:"created_at"`
}

// deploySteps are the pipeline's steps, in order, for the progress display.
var deploySteps = []string{"source", "build", "release", "route"}

func deployCmds() []command {
	return []command{
		simple("", "APP_ID", "Deploy an application; --follow streams the build and rollout log until it ends.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			ref := fs.String("ref", "", "deploy this branch, tag or commit instead of the application's")
			follow := fs.Bool("follow", false, "stream the log and wait for the result (exit 1 if it fails)")
			canary := fs.Int("canary", 0, "release to this percentage of requests (1-99) until promoted or aborted")
			autoRate := fs.Float64("auto-promote-max-error-rate", -1, "with --canary: promote once the 5xx rate stayed at or below this (0-1) for --auto-promote-window")
			autoWindow := fs.Duration("auto-promote-window", time.Minute, "with --auto-promote-max-error-rate: how long the rate must hold")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				body := map[string]any{}
				if *ref != "" {
					body["git_ref"] = *ref
				}
				if *canary != 0 {
					cr := map[string]any{"weight": *canary}
					if *autoRate >= 0 {
						cr["auto_promote"] = map[string]any{"max_error_rate": *autoRate, "window_seconds": int(autoWindow.Seconds())}
					}
					body["canary"] = cr
				}
				var d deployment
				if err := c.Do(ctx, "POST", api+"/applications/"+url.PathEscape(args[0])+"/deployments", nil, body, &d); err != nil {
					return err
				}
				if !*follow {
					return e.printObject(d)
				}
				fmt.Fprintf(e.Stderr, "deployment %s queued (position %d)\n", d.ID, d.QueuePosition)
				return followLogs(ctx, e, c, d.ID)
			}
		}),
	}
}

func deploymentCmds() []command {
	return []command{
		simple("list", "APP_ID", "List an application's deployments, newest first.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var p page[deployment]
				if err := c.Do(ctx, "GET", api+"/applications/"+url.PathEscape(args[0])+"/deployments", url.Values{"limit": {"50"}}, nil, &p); err != nil {
					return err
				}
				ds := orEmpty(p.Items)
				return e.print(ds, []string{"ID", "KIND", "STATUS", "COMMIT", "IMAGE", "CREATED"}, func(i int) []string {
					return []string{ds[i].ID, ds[i].Kind, ds[i].Status, short(ds[i].CommitSHA), ds[i].Image, ds[i].CreatedAt}
				}, len(ds))
			}
		}),
		getCmd("get", "DEPLOYMENT_ID", "Show a deployment with its step timings.", "/deployments/"),
		simple("logs", "DEPLOYMENT_ID", "Print a deployment's log; --follow streams it live.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			follow := fs.Bool("follow", false, "stream until the deployment ends")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				if *follow {
					return followLogs(ctx, e, c, args[0])
				}
				after := 0
				for {
					var p struct {
						Items []struct {
							Seq    int    `json:"seq"`
							Stream string `json:"stream"`
							Line   string `json:"line"`
						} `json:"items"`
						Next int `json:"next"`
					}
					if err := c.Do(ctx, "GET", api+"/deployments/"+url.PathEscape(args[0])+"/logs", url.Values{"after": {fmt.Sprint(after)}}, nil, &p); err != nil {
						return err
					}
					for _, l := range p.Items {
						fmt.Fprintln(e.Stdout, l.Line)
					}
					if len(p.Items) == 0 {
						return nil
					}
					after = p.Next
				}
			}
		}),
		simple("cancel", "DEPLOYMENT_ID", "Cancel a queued or running deployment (the previous version keeps serving).", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var d deployment
				if err := c.Do(ctx, "POST", api+"/deployments/"+url.PathEscape(args[0])+"/cancel", nil, nil, &d); err != nil {
					return err
				}
				return e.printObject(d)
			}
		}),
		simple("promote", "DEPLOYMENT_ID", "Send all the traffic to a canary release and retire the previous version.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var d deployment
				if err := c.Do(ctx, "POST", api+"/deployments/"+url.PathEscape(args[0])+"/promote", nil, nil, &d); err != nil {
					return err
				}
				return e.printObject(d)
			}
		}),
		simple("abort", "DEPLOYMENT_ID", "Send all the traffic back to the previous version and remove a canary release.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var d deployment
				if err := c.Do(ctx, "POST", api+"/deployments/"+url.PathEscape(args[0])+"/abort", nil, nil, &d); err != nil {
					return err
				}
				return e.printObject(d)
			}
		}),
		diffCmd(),
		simple("rollback", "DEPLOYMENT_ID", "Release a previous deployment's image again; --follow waits for it.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			follow := fs.Bool("follow", false, "stream the log and wait for the result")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				var d deployment
				if err := c.Do(ctx, "POST", api+"/deployments/"+url.PathEscape(args[0])+"/rollback", nil, nil, &d); err != nil {
					return err
				}
				if !*follow {
					return e.printObject(d)
				}
				return followLogs(ctx, e, c, d.ID)
			}
		}),
	}
}

// followLogs streams a deployment's log over server-sent events, showing the
// current step as a progress line on stderr, and returns an error when the
// deployment does not succeed.
func followLogs(ctx context.Context, e *Env, c *Client, id string) error {
	last := 0
	started := time.Now()
	for attempt := 0; attempt < 5; attempt++ {
		end, err := streamOnce(ctx, e, c, id, &last, started)
		if err != nil {
			return err
		}
		if end != nil {
			fmt.Fprintf(e.Stderr, "\ndeployment %s %s after %s\n", id, end.Status, time.Since(started).Round(100*time.Millisecond))
			if end.Status == "canary" {
				fmt.Fprintf(e.Stderr, "the canary holds its share: berth deployments promote %s (or abort %s)\n", id, id)
				return nil
			}
			if end.Status != "succeeded" {
				return &exitError{code: ExitError, msg: "deployment " + end.Status + ": " + end.Error}
			}
			return nil
		}
		time.Sleep(time.Second) // the stream broke: resume after the last line
	}
	return fmt.Errorf("lost the log stream of deployment %s; see `berth deployments get %s`", id, id)
}

type endEvent struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

func streamOnce(ctx context.Context, e *Env, c *Client, id string, last *int, started time.Time) (*endEvent, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.Server+api+"/deployments/"+url.PathEscape(id)+"/logs?follow=true&after="+fmt.Sprint(*last), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, nil // retried by the caller
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, &exitError{code: ExitError, msg: fmt.Sprintf("follow logs: HTTP %d", resp.StatusCode)}
	}
	var end *endEvent
	_ = readEvents(resp.Body, func(event, data string) bool {
		switch event {
		case "log":
			var l struct {
				Seq    int    `json:"seq"`
				Stream string `json:"stream"`
				Line   string `json:"line"`
			}
			if json.Unmarshal([]byte(data), &l) == nil {
				*last = l.Seq
				if step, ok := strings.CutPrefix(l.Line, "== "); ok && l.Stream == "berth" {
					progress(e, step, started)
					return false
				}
				fmt.Fprintln(e.Stdout, l.Line)
			}
		case "end":
			end = &endEvent{}
			_ = json.Unmarshal([]byte(data), end)
			return true
		}
		return false
	})
	return end, nil
}

// progress prints a step bar like "[##--] build  00:12".
func progress(e *Env, step string, started time.Time) {
	idx := 0
	for i, s := range deploySteps {
		if s == step {
			idx = i + 1
		}
	}
	bar := strings.Repeat("#", idx) + strings.Repeat("-", len(deploySteps)-idx)
	el := time.Since(started).Round(time.Second)
	fmt.Fprintf(e.Stderr, "[%s] step %d/%d: %s  (%02d:%02d)\n", bar, idx, len(deploySteps), step, int(el.Minutes()), int(el.Seconds())%60)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
