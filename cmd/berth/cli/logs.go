package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// runtimeLine is one line of GET .../logs.
type runtimeLine struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"`
	TaskID string    `json:"task_id"`
	Slot   int       `json:"slot"`
	NodeID string    `json:"node_id"`
	Text   string    `json:"text"`
}

type database struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func logsCmds() []command {
	return []command{
		simple("", "APP", "Print what an application's tasks (or, with --database, a database's) print: the latest lines, oldest first; --follow keeps printing new ones. APP is an id or a name unique among the applications (databases) you can see.", func(fs *flag.FlagSet) func(context.Context, *Env, *Client, []string) error {
			db := fs.Bool("database", false, "APP names a database")
			follow := fs.Bool("follow", false, "keep printing new lines until interrupted")
			fs.BoolVar(follow, "f", false, "shorthand for --follow")
			tail := fs.String("tail", "", "the latest N lines matching the filters: 200 unless given, at most 10000 (with --follow, 0 prints only new lines)")
			since := fs.String("since", "", "only lines from this time on: RFC 3339 or a duration back from now (10m, 2h)")
			until := fs.String("until", "", "only lines up to this time: RFC 3339 or a duration back from now")
			task := fs.String("task", "", "only this task (an id or its beginning) or replica slot (a number)")
			grep := fs.String("grep", "", "only lines containing this text, ignoring case")
			stream := fs.String("stream", "", "only stdout or only stderr")
			return func(ctx context.Context, e *Env, c *Client, args []string) error {
				path, err := logsPath(ctx, c, args[0], *db)
				if err != nil {
					return err
				}
				q := url.Values{}
				for k, v := range map[string]string{"tail": *tail, "since": *since, "until": *until, "task": *task, "grep": *grep, "stream": *stream} {
					if v != "" {
						q.Set(k, v)
					}
				}
				if !*follow {
					var page struct {
						Items []runtimeLine `json:"items"`
					}
					if err := c.Do(ctx, "GET", path, q, nil, &page); err != nil {
						return err
					}
					if e.output == "json" {
						return e.printObject(page.Items)
					}
					for _, l := range page.Items {
						printRuntimeLine(e, l)
					}
					return nil
				}
				return followRuntimeLogs(ctx, e, c, path, q)
			}
		}),
	}
}

// logsPath resolves ref (an id or a unique name) to the logs route of an
// application or a database.
func logsPath(ctx context.Context, c *Client, ref string, db bool) (string, error) {
	kind, collection := "application", "/applications"
	if db {
		kind, collection = "database", "/databases"
	}
	if _, err := uuid.Parse(ref); err == nil {
		return api + collection + "/" + ref + "/logs", nil
	}
	all, err := listAll[database](ctx, c, api+collection, nil) // id and name are all we need
	if err != nil {
		return "", err
	}
	var found []string
	for _, x := range all {
		if strings.EqualFold(x.Name, ref) {
			found = append(found, x.ID)
		}
	}
	switch len(found) {
	case 1:
		return api + collection + "/" + found[0] + "/logs", nil
	case 0:
		return "", &exitError{code: ExitNotFound, msg: fmt.Sprintf("no %s named %q", kind, ref)}
	}
	return "", usageErr("several %ss are named %q: give its id", kind, ref)
}

// printRuntimeLine prints "TIME SLOT.TASK  TEXT", stderr lines marked with
// "!" (the text itself goes to stdout, so a pipe keeps the order).
func printRuntimeLine(e *Env, l runtimeLine) {
	if e.output == "json" {
		data, _ := json.Marshal(l)
		fmt.Fprintln(e.Stdout, string(data))
		return
	}
	mark := " "
	if l.Stream == "stderr" {
		mark = "!"
	}
	task := l.TaskID
	if len(task) > 6 {
		task = task[:6]
	}
	fmt.Fprintf(e.Stdout, "%s %d.%s %s %s\n", l.Time.Local().Format("2006-01-02T15:04:05.000"), l.Slot, task, mark, l.Text)
}

// followRuntimeLogs prints the lines of the server-sent event stream,
// reconnecting after the last line when the stream breaks, until ctx ends.
func followRuntimeLogs(ctx context.Context, e *Env, c *Client, path string, q url.Values) error {
	var last time.Time
	for failures := 0; failures < 5; {
		connected, err := streamRuntimeLogs(ctx, e, c, path, q, &last)
		if err != nil || ctx.Err() != nil {
			return err
		}
		if connected {
			failures = 0
		} else {
			failures++
		}
		if !last.IsZero() {
			// Resume after the last line printed.
			q.Set("since", last.Add(time.Nanosecond).Format(time.RFC3339Nano))
			q.Set("tail", strconv.Itoa(10000))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	return fmt.Errorf("lost the log stream of %s", path)
}

// streamRuntimeLogs reads one event stream until it ends; it reports
// whether the server answered it.
func streamRuntimeLogs(ctx context.Context, e *Env, c *Client, path string, q url.Values, last *time.Time) (bool, error) {
	q.Set("follow", "true")
	req, err := http.NewRequestWithContext(ctx, "GET", c.Server+path+"?"+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return false, nil // retried by the caller
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The JSON error names the bad parameter: let Do render it.
		return false, c.Do(ctx, "GET", path, q, nil, nil)
	}
	_ = readEvents(resp.Body, func(event, data string) bool {
		switch event {
		case "log":
			var l runtimeLine
			if json.Unmarshal([]byte(data), &l) == nil {
				printRuntimeLine(e, l)
				*last = l.Time
			}
		case "failed":
			fmt.Fprintf(e.Stderr, "berth: %s\n", data)
		}
		return false
	})
	return true, nil
}
