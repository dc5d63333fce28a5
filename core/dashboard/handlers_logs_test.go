package dashboard

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/runtimelog"
)

// pageLogs answers every read with a stdout and a stderr line.
type pageLogs struct {
	services []string
	query    runtimelog.Query
}

func (p *pageLogs) Read(_ context.Context, services []string, q runtimelog.Query, emit func(runtimelog.Line) error) error {
	p.services, p.query = services, q
	at := time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	for _, l := range []runtimelog.Line{
		{Time: at, Stream: "stdout", TaskID: "abcdef123456", Slot: 2, NodeID: "n1", Text: "hello <b>world</b>"},
		{Time: at.Add(time.Second), Stream: "stderr", TaskID: "abcdef123456", Slot: 2, NodeID: "n1", Text: "oops"},
	} {
		if err := emit(l); err != nil {
			return err
		}
	}
	return nil
}

func TestRuntimeLogPages(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)

	t.Run("without Docker the page says so", func(t *testing.T) {
		r := admin.must(200, admin.do("GET", "/apps/"+f.app.ID.String()+"/logs", nil))
		if !strings.Contains(r.Body, "need the Docker Engine") || strings.Contains(r.Body, "data-stream=") {
			t.Errorf("page:\n%s", r.Body)
		}
	})

	logs := &pageLogs{}
	h.dash.opts.RuntimeLogs = logs
	t.Run("application: lines, filters and the live stream", func(t *testing.T) {
		app := admin.must(200, admin.do("GET", appURL(f.app.ID), nil))
		if !strings.Contains(app.Body, `href="/apps/`+f.app.ID.String()+`/logs"`) {
			t.Error("the application page has no link to its logs")
		}
		r := admin.must(200, admin.do("GET", "/apps/"+f.app.ID.String()+"/logs?grep=hel&task=2&stream=stdout&since=1h&tail=50", nil))
		for _, want := range []string{
			`03:04:05.600 2.abcdef </span>hello &lt;b&gt;world&lt;/b&gt;`, // escaped, with time and task
			`<div class="l err">`, `value="hel"`, `<option value="stdout" selected>`,
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("page lacks %q:\n%s", want, r.Body)
			}
		}
		if q := logs.query; q.Text != "hel" || q.Task != "2" || q.Stream != "stdout" || q.Tail != 50 || q.Follow {
			t.Errorf("query %+v", q)
		}
		if len(logs.services) != 2 || logs.services[0] != f.app.ServiceName {
			t.Errorf("services %v", logs.services)
		}
		// The script follows the same lines, then new ones, with the filters.
		i := strings.Index(r.Body, `data-stream="`)
		if i < 0 {
			t.Fatalf("no live stream on the page:\n%s", r.Body)
		}
		raw := r.Body[i+len(`data-stream="`):]
		raw = strings.ReplaceAll(raw[:strings.IndexByte(raw, '"')], "&amp;", "&")
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		v := u.Query()
		if u.Path != "/api/v1/applications/"+f.app.ID.String()+"/logs" || v.Get("follow") != "true" || v.Get("tail") != "50" ||
			v.Get("since") != "1h" || v.Get("grep") != "hel" || v.Get("task") != "2" || v.Get("stream") != "stdout" {
			t.Errorf("stream address %s", raw)
		}
	})

	t.Run("database", func(t *testing.T) {
		db := admin.must(200, admin.do("GET", "/databases/"+f.database.ID.String(), nil))
		if !strings.Contains(db.Body, `href="/databases/`+f.database.ID.String()+`/logs"`) {
			t.Error("the database page has no link to its logs")
		}
		r := admin.must(200, admin.do("GET", "/databases/"+f.database.ID.String()+"/logs", nil))
		if !strings.Contains(r.Body, "oops") || len(logs.services) != 1 || logs.services[0] != f.database.ServiceName {
			t.Errorf("services %v, page:\n%s", logs.services, r.Body)
		}
	})

	t.Run("a bad filter is shown next to its field", func(t *testing.T) {
		r := admin.must(422, admin.do("GET", "/apps/"+f.app.ID.String()+"/logs?since=yesterday", nil))
		if !strings.Contains(r.Body, `class="field-error"`) || !strings.Contains(r.Body, "RFC 3339") {
			t.Errorf("page:\n%s", r.Body)
		}
	})
}
