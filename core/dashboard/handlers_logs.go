package dashboard

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/runtimelog"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func init() { pageNames = append(pageNames, "logs") } // issue 17, logs

// runtimeLogsData is the runtime log page of an application or a database.
type runtimeLogsData struct {
	Kind    string // "application" or "database"
	Name    string
	Back    string // the resource's page
	Project store.Project
	Env     store.Environment
	// Filters are the submitted filter values; Errors their messages.
	Filters map[string]string
	Errors  map[string]string
	// Unavailable explains why no lines can be shown.
	Unavailable string
	Lines       []runtimeLogRow
	// Stream is the API address the page's script follows (empty: none).
	Stream string
}

// runtimeLogRow is one line as the page shows it.
type runtimeLogRow struct {
	runtimelog.Line
	Clock string // UTC time of day with milliseconds
	Task  string // slot.task
}

// appLogsPage shows an application's runtime log and follows it.
func (d *Dashboard) appLogsPage(r *request) error {
	a := r.app
	data := runtimeLogsData{Kind: "application", Name: a.Name, Back: "/apps/" + a.ID.String()}
	return d.renderRuntimeLogs(r, data, a.ProjectID, a.EnvironmentID,
		"/api/v1/applications/"+a.ID.String()+"/logs", runtimelog.ApplicationServices(a))
}

// databaseLogsPage shows a database's runtime log and follows it.
func (d *Dashboard) databaseLogsPage(r *request) error {
	db := r.database
	data := runtimeLogsData{Kind: "database", Name: db.Name, Back: "/databases/" + db.ID.String()}
	return d.renderRuntimeLogs(r, data, db.ProjectID, db.EnvironmentID,
		"/api/v1/databases/"+db.ID.String()+"/logs", runtimelog.DatabaseServices(db))
}

// runtimeLogFilters are the page's filter fields (the API's parameters).
var runtimeLogFilters = []string{"task", "grep", "stream", "since", "tail"}

func (d *Dashboard) renderRuntimeLogs(r *request, data runtimeLogsData, projectID, envID uuid.UUID, apiPath string, services []string) error {
	ctx := r.c.UserContext()
	var err error
	if data.Project, err = d.store.GetProject(ctx, projectID); err != nil {
		return err
	}
	if data.Env, err = d.store.GetEnvironment(ctx, envID); err != nil {
		return err
	}
	data.Filters, data.Errors = map[string]string{}, map[string]string{}
	for _, name := range runtimeLogFilters {
		data.Filters[name] = r.c.Query(name)
	}
	status := fiber.StatusOK
	q, err := runtimelog.ParseQuery(func(name string) string { return data.Filters[name] }, time.Now())
	switch {
	case err != nil:
		p := problem.Classify(err)
		data.Errors[p.Field] = p.Message
		status = p.Status()
	case d.opts.RuntimeLogs == nil:
		data.Unavailable = "Runtime logs need the Docker Engine, which this berth server does not use."
	default:
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		err := d.opts.RuntimeLogs.Read(rctx, services, q, func(l runtimelog.Line) error {
			row := runtimeLogRow{Line: l, Clock: l.Time.UTC().Format("15:04:05.000"), Task: "?"}
			if l.TaskID != "" {
				row.Task = l.TaskID[:min(6, len(l.TaskID))]
			}
			data.Lines = append(data.Lines, row)
			return nil
		})
		if err != nil {
			d.log.Warn("runtime logs page", "services", services, "err", err)
			data.Unavailable = "The Docker Engine did not return the logs; try again in a moment."
			break
		}
		// The script follows the same lines and the new ones from the API
		// (which sends its own tail first, then live lines, without losing
		// one in between), replacing those rendered here.
		v := url.Values{"follow": {"true"}, "tail": {strconv.Itoa(q.Tail)}}
		for _, name := range []string{"task", "grep", "stream", "since"} {
			if data.Filters[name] != "" {
				v.Set(name, data.Filters[name])
			}
		}
		data.Stream = apiPath + "?" + v.Encode()
	}
	return r.render(status, "logs", &view{Title: "Logs of " + data.Name, Data: data})
}
