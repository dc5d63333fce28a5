package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/runtimelog"
	"github.com/berth-dev/berth/core/store"
)

// fakeRuntimeLogs answers every read with two lines and remembers what
// was asked; a follow ends after them.
type fakeRuntimeLogs struct {
	mu       sync.Mutex
	services []string
	query    runtimelog.Query
}

var fakeLineTime = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

func (f *fakeRuntimeLogs) Read(_ context.Context, services []string, q runtimelog.Query, emit func(runtimelog.Line) error) error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	f.services, f.query = services, q
	f.mu.Unlock()
	for i, text := range []string{"hello", "oops"} {
		stream := []string{"stdout", "stderr"}[i]
		if err := emit(runtimelog.Line{Time: fakeLineTime.Add(time.Duration(i) * time.Second), Stream: stream, TaskID: "abc123", Slot: 1, NodeID: "node1", Text: text}); err != nil {
			return err
		}
	}
	return nil
}

func TestRuntimeLogs(t *testing.T) {
	fake := &fakeRuntimeLogs{}
	h := newHarness(t, func(o *api.Options) { o.RuntimeLogs = fake })
	f := h.fixture()
	var app store.Application
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID, f.key, nil)).json(t, &app)
	var db store.Database
	h.must(201, h.do("POST", "/api/v1/environments/"+f.envID+"/databases", f.key, map[string]any{"name": "main", "engine": "postgres"})).json(t, &db)

	t.Run("JSON, from the application's service and its candidate", func(t *testing.T) {
		var page api.RuntimeLogPage
		h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/logs?tail=5&grep=hel&stream=stdout&task=2&since=10m", f.key, nil)).json(t, &page)
		if len(page.Items) != 2 || page.Items[0].Text != "hello" || page.Items[1].Stream != "stderr" || page.Items[0].Slot != 1 {
			t.Fatalf("items = %+v", page.Items)
		}
		want := []string{app.ServiceName, app.ServiceName + "-next"}
		if strings.Join(fake.services, " ") != strings.Join(want, " ") {
			t.Errorf("services = %v, want %v", fake.services, want)
		}
		q := fake.query
		if q.Tail != 5 || q.Text != "hel" || q.Stream != "stdout" || q.Task != "2" || q.Follow ||
			time.Since(q.Since) < 9*time.Minute || time.Since(q.Since) > 11*time.Minute {
			t.Errorf("query = %+v", q)
		}
	})

	t.Run("database", func(t *testing.T) {
		var page api.RuntimeLogPage
		h.must(200, h.do("GET", "/api/v1/databases/"+db.ID.String()+"/logs", f.key, nil)).json(t, &page)
		if len(page.Items) != 2 || strings.Join(fake.services, " ") != db.ServiceName || fake.query.Tail != runtimelog.DefaultTail {
			t.Fatalf("items %+v from %v with %+v", page.Items, fake.services, fake.query)
		}
	})

	t.Run("server-sent events", func(t *testing.T) {
		for _, tc := range []struct{ query, accept string }{{"?follow=true&tail=0", ""}, {"", "text/event-stream"}} {
			r := h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/logs"+tc.query, f.key, nil, "Accept", tc.accept))
			if ct := r.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("content type %q", ct)
			}
			body := string(r.Body)
			if strings.Count(body, "event: log\n") != 2 || !strings.Contains(body, "id: "+fakeLineTime.Format(time.RFC3339Nano)+"\n") ||
				!strings.Contains(body, `"text":"oops"`) {
				t.Errorf("stream:\n%s", body)
			}
			if !fake.query.Follow {
				t.Errorf("query %+v does not follow", fake.query)
			}
		}
		// A reconnecting EventSource resumes after its last line.
		h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/logs?follow=true", f.key, nil, "Last-Event-ID", fakeLineTime.Format(time.RFC3339Nano)))
		if want := fakeLineTime.Add(time.Nanosecond); !fake.query.Since.Equal(want) {
			t.Errorf("resumed since %s, want %s", fake.query.Since, want)
		}
	})

	t.Run("bad parameters are 422 naming them", func(t *testing.T) {
		for _, tc := range []struct{ query, param string }{
			{"tail=-1", "tail"}, {"tail=10001", "tail"}, {"tail=x", "tail"}, {"tail=0", "tail"},
			{"since=yesterday", "since"}, {"until=-5m", "until"}, {"since=1m&until=2m", "until"},
			{"follow=true&until=1m", "until"}, {"stream=both", "stream"}, {"task=a/b", "task"},
			{"follow=maybe", "follow"}, {"grep=" + strings.Repeat("x", 501), "grep"},
		} {
			r := h.do("GET", "/api/v1/applications/"+f.appID+"/logs?"+tc.query, f.key, nil)
			var e api.ErrorBody
			_ = json.Unmarshal(r.Body, &e)
			if r.Status != 422 || e.Error.Field != tc.param {
				t.Errorf("?%s: status %d field %q, want 422 naming %s: %s", tc.query, r.Status, e.Error.Field, tc.param, r.Body)
			}
		}
	})
}

func TestRuntimeLogsWithoutDocker(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	h.must(503, h.do("GET", "/api/v1/applications/"+f.appID+"/logs", f.key, nil))
	h.must(422, h.do("GET", "/api/v1/applications/"+f.appID+"/logs?tail=x", f.key, nil))
}

// blockingLogs sends one line, then waits for the reader's context to end
// and reports when it did.
type blockingLogs struct{ ended chan time.Time }

func (b *blockingLogs) Read(ctx context.Context, _ []string, _ runtimelog.Query, emit func(runtimelog.Line) error) error {
	if err := emit(runtimelog.Line{Time: time.Now(), Stream: "stdout", Text: "first"}); err != nil {
		return err
	}
	<-ctx.Done()
	b.ended <- time.Now()
	return nil
}

// TestRuntimeLogsFollowEndsWhenTheClientLeaves: the read behind a stream
// is cancelled soon after its client goes away.
func TestRuntimeLogsFollowEndsWhenTheClientLeaves(t *testing.T) {
	logs := &blockingLogs{ended: make(chan time.Time, 1)}
	h := newHarness(t, func(o *api.Options) { o.RuntimeLogs = logs })
	f := h.fixture()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h.srv.App().Listener(ln)
	t.Cleanup(func() { _ = h.srv.Shutdown(context.Background()) })

	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/api/v1/applications/"+f.appID+"/logs?follow=true", nil)
	req.Header.Set("Authorization", "Bearer "+f.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.Contains(sc.Text(), `"text":"first"`) {
	}
	left := time.Now()
	resp.Body.Close()
	select {
	case ended := <-logs.ended:
		t.Logf("the read ended %s after the client left", ended.Sub(left).Round(time.Millisecond))
		if ended.Sub(left) > 5*time.Second {
			t.Errorf("the read ended %s after the client left, want within 5s", ended.Sub(left))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read still runs 10s after the client left")
	}
}
