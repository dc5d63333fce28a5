package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
)

type runtimeLine struct {
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"`
	TaskID string    `json:"task_id"`
	Slot   int       `json:"slot"`
	NodeID string    `json:"node_id"`
	Text   string    `json:"text"`
}

// TestRuntimeLogs deploys an application of two replicas that prints known
// lines on stdout and stderr (core/runtimelog/testdata/talker) and reads
// them back through berth's API and CLI: in order, with their stream, task
// and slot, filtered, and followed live.
func TestRuntimeLogs(t *testing.T) {
	started := time.Now()
	s := newServer(t)
	image := "berth-e2e/talker:" + s.Name
	dockertest.BuildGoImage(t, dockertest.EngineClient(t), "./core/runtimelog/testdata/talker", image, false)
	t.Logf("server started and image built in %s", time.Since(started).Round(time.Millisecond))
	a := s.newApp(map[string]any{"name": "talker", "source_type": "image", "image": image, "replicas": 2}, "")
	for k, v := range map[string]string{"LINES": "3", "TICK": "500ms"} {
		s.Call("PUT", "/applications/"+a.ID+"/variables/"+k, map[string]any{"value": v}, 200, nil)
	}
	logs := func(query string) []runtimeLine {
		t.Helper()
		var page struct {
			Items []runtimeLine `json:"items"`
		}
		s.Call("GET", "/applications/"+a.ID+"/logs?"+query, nil, 200, &page)
		return page.Items
	}
	if got := logs(""); len(got) != 0 {
		t.Fatalf("never deployed: %d lines, want none", len(got))
	}
	deployed := time.Now()
	s.deployAndWait(a, "succeeded")
	t.Logf("deployed in %s", time.Since(deployed).Round(time.Millisecond))

	var all []runtimeLine
	deadline := time.Now().Add(30 * time.Second)
	for {
		all = logs("grep=err&stream=stderr")
		if len(all) >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	tasks := map[int]string{}
	for i, l := range all {
		if l.Stream != "stderr" || !strings.HasPrefix(l.Text, "err") || l.TaskID == "" || l.NodeID == "" {
			t.Errorf("line %+v", l)
		}
		if i > 0 && l.Time.Before(all[i-1].Time) {
			t.Errorf("%q is older than the line above it", l.Text)
		}
		tasks[l.Slot] = l.TaskID
	}
	if len(all) != 6 || len(tasks) != 2 || tasks[1] == "" || tasks[2] == "" || tasks[1] == tasks[2] {
		t.Fatalf("stderr lines %+v: want 3 of each of two tasks in slots 1 and 2", all)
	}
	for _, l := range logs("task=2&tail=20") {
		if l.Slot != 2 || l.TaskID != tasks[2] {
			t.Errorf("task=2 gave a line of slot %d task %s", l.Slot, l.TaskID)
		}
	}
	if got := logs("task=" + tasks[1][:8] + "&grep=OUT%20%201"); len(got) != 1 || got[0].Stream != "stdout" || got[0].Slot != 1 {
		t.Errorf("task id prefix and text: %+v", got)
	}
	s.Call("GET", "/applications/"+a.ID+"/logs?since=yesterday", nil, 422, nil)

	t.Run("follow delivers a new line within a second", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+s.Addr+"/api/v1/applications/"+a.ID+"/logs?follow=true&tail=0&grep=tick", nil)
		req.Header.Set("Authorization", "Bearer "+s.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		sc := bufio.NewScanner(resp.Body)
		var worst time.Duration
		n := 0
		for n < 4 && sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var l runtimeLine
			if err := json.Unmarshal([]byte(data), &l); err != nil {
				t.Fatal(err)
			}
			worst = max(worst, time.Since(l.Time))
			n++
		}
		t.Logf("follow through the API: %d live lines, worst delay from the line's time to the client %s", n, worst.Round(time.Millisecond))
		if n < 4 || worst > time.Second {
			t.Fatalf("%d live lines, worst delay %s: want 4 within a second each", n, worst)
		}
	})

	t.Run("berth logs", func(t *testing.T) {
		cmd := exec.Command(bins.Berth, "logs", "talker", "--stream", "stderr", "--task", "1", "--tail", "2")
		cmd.Env = append(os.Environ(), "BERTH_SERVER=http://"+s.Addr, "BERTH_TOKEN="+s.Key, "BERTH_CONFIG="+filepath.Join(t.TempDir(), "c.json"))
		out, err := cmd.CombinedOutput()
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err != nil || len(lines) != 2 || !strings.HasSuffix(lines[0], "! err  2") || !strings.HasSuffix(lines[1], "! err  3") ||
			!strings.Contains(lines[0], fmt.Sprintf(" 1.%s ", tasks[1][:6])) {
			t.Fatalf("berth logs: %v\n%s", err, out)
		}
	})
}
