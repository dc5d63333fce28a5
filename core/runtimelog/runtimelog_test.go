package runtimelog_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/runtimelog"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// service runs the talker as a Swarm service and removes it at the end.
func service(t *testing.T, cli *client.Client, name, image string, replicas uint64, env ...string) {
	t.Helper()
	env = append(env, "SLOT={{.Task.Slot}}")
	grace := time.Second
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: image, Env: env, StopGracePeriod: &grace},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}
	resp, err := cli.ServiceCreate(context.Background(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create service %s: %v", name, err)
	}
	t.Cleanup(func() { dockertest.RemoveService(cli, resp.ID) })
}

// read returns the lines Read gives for q.
func read(t *testing.T, r *runtimelog.Reader, services []string, q runtimelog.Query) []runtimelog.Line {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []runtimelog.Line
	if err := r.Read(ctx, services, q, func(l runtimelog.Line) error { out = append(out, l); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitLines reads until at least n lines come, failing after 30 s.
func waitLines(t *testing.T, r *runtimelog.Reader, services []string, n int) []runtimelog.Line {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		lines := read(t, r, services, runtimelog.Query{Tail: 200})
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v: %d lines after 30s, want %d: %v", services, len(lines), n, texts(lines))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func texts(lines []runtimelog.Line) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.Text
	}
	return out
}

func TestRead(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.ImageRef(t, cli, "talker")
	dockertest.BuildGoImage(t, cli, "./core/runtimelog/testdata/talker", image, true)
	info, err := cli.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := runtimelog.New(cli)
	quiet, pair := dockertest.UniqueName("rtlq"), dockertest.UniqueName("rtlp")
	begun := time.Now()
	service(t, cli, quiet, image, 1, "LINES=5")
	service(t, cli, pair, image, 2, "LINES=3", "TICK=200ms")
	long := dockertest.UniqueName("rtll")
	service(t, cli, long, image, 1, "LINES=0", "LONG=40000")

	want := []string{"out 1 1", "err 1 1", "out 1 2", "err 1 2", "out 1 3", "err 1 3", "out 1 4", "err 1 4", "out 1 5", "err 1 5"}
	all := waitLines(t, r, []string{quiet}, len(want))

	t.Run("lines in order with stream, time and task", func(t *testing.T) {
		if got := texts(all); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("lines = %q, want %q", got, want)
		}
		for i, l := range all {
			if wantStream := map[bool]string{true: "stdout", false: "stderr"}[i%2 == 0]; l.Stream != wantStream {
				t.Errorf("%q: stream %s, want %s", l.Text, l.Stream, wantStream)
			}
			if l.Time.Before(begun.Add(-time.Second)) || l.Time.After(time.Now()) {
				t.Errorf("%q: time %s outside the test", l.Text, l.Time)
			}
			if i > 0 && l.Time.Before(all[i-1].Time) {
				t.Errorf("%q before the line above it", l.Text)
			}
			if l.TaskID == "" || l.TaskID != all[0].TaskID || l.Slot != 1 || l.NodeID != info.Swarm.NodeID {
				t.Errorf("%q: task %q slot %d node %q, want one task, slot 1, node %s", l.Text, l.TaskID, l.Slot, l.NodeID, info.Swarm.NodeID)
			}
		}
	})

	t.Run("filters", func(t *testing.T) {
		third := all[2].Time
		for _, tc := range []struct {
			name string
			q    runtimelog.Query
			want []string
		}{
			{"tail", runtimelog.Query{Tail: 3}, want[7:]},
			{"stdout", runtimelog.Query{Tail: 200, Stream: "stdout"}, []string{"out 1 1", "out 1 2", "out 1 3", "out 1 4", "out 1 5"}},
			{"stderr, tail", runtimelog.Query{Tail: 2, Stream: "stderr"}, []string{"err 1 4", "err 1 5"}},
			{"text ignores case", runtimelog.Query{Tail: 200, Text: "ERR 1 3"}, []string{"err 1 3"}},
			{"since", runtimelog.Query{Tail: 200, Since: third}, want[2:]},
			{"until", runtimelog.Query{Tail: 200, Until: third}, want[:3]},
			{"since and until", runtimelog.Query{Tail: 200, Since: all[1].Time, Until: all[3].Time}, want[1:4]},
			{"until with tail", runtimelog.Query{Tail: 1, Until: third}, want[2:3]},
			{"slot", runtimelog.Query{Tail: 200, Task: "1"}, want},
			{"other slot", runtimelog.Query{Tail: 200, Task: "2"}, nil},
			{"task id prefix", runtimelog.Query{Tail: 200, Task: all[0].TaskID[:6], Text: "out 1 5"}, []string{"out 1 5"}},
			{"other task", runtimelog.Query{Tail: 200, Task: "zzzzzz"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := texts(read(t, r, []string{quiet}, tc.q))
				if strings.Join(got, "|") != strings.Join(tc.want, "|") {
					t.Errorf("lines = %q, want %q", got, tc.want)
				}
			})
		}
	})

	t.Run("a line longer than Docker's 16 KiB comes in pieces, each a line", func(t *testing.T) {
		lines := waitLines(t, r, []string{long}, 3)
		total := 0
		for _, l := range lines {
			if strings.Trim(l.Text, "x") != "" || len(l.Text) > 16<<10 || l.TaskID == "" {
				t.Errorf("piece of %d bytes, task %q: %.80q", len(l.Text), l.TaskID, l.Text)
			}
			total += len(l.Text)
		}
		if total != 40000 {
			t.Errorf("%d pieces of %d bytes in all, want 40000", len(lines), total)
		}
	})

	t.Run("a service that does not exist has no lines", func(t *testing.T) {
		if got := read(t, r, []string{"rtl-none-" + quiet}, runtimelog.Query{Tail: 10}); len(got) != 0 {
			t.Fatalf("lines = %v", got)
		}
	})

	t.Run("two replicas: each line carries its task and slot", func(t *testing.T) {
		lines := waitLines(t, r, []string{pair}, 12)
		tasks := map[int]string{}
		for _, l := range lines {
			var slot int
			var kind string
			var i int
			if _, err := fmt.Sscanf(l.Text, "%s %d %d", &kind, &slot, &i); err != nil {
				t.Fatalf("line %q: %v", l.Text, err)
			}
			if l.Slot != slot || l.TaskID == "" {
				t.Errorf("%q: slot %d task %q", l.Text, l.Slot, l.TaskID)
			}
			if tasks[slot] == "" {
				tasks[slot] = l.TaskID
			}
			if tasks[slot] != l.TaskID {
				t.Errorf("slot %d has tasks %s and %s", slot, tasks[slot], l.TaskID)
			}
		}
		if len(tasks) != 2 || tasks[1] == tasks[2] {
			t.Fatalf("tasks by slot = %v, want two", tasks)
		}
		if !sort.SliceIsSorted(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) }) {
			t.Errorf("lines of the two tasks are not oldest first")
		}
		only2 := read(t, r, []string{pair}, runtimelog.Query{Tail: 200, Task: "2"})
		for _, l := range only2 {
			if l.Slot != 2 || !strings.Contains(l.Text, " 2 ") {
				t.Errorf("task=2 gave %q of slot %d", l.Text, l.Slot)
			}
		}
		if len(only2) == 0 {
			t.Error("task=2 gave no lines")
		}
	})

	t.Run("follow delivers new lines within a second", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var delays []time.Duration
		seen := map[string]bool{}
		var before []string
		err := r.Read(ctx, []string{pair}, runtimelog.Query{Tail: 2, Follow: true, Task: "1"}, func(l runtimelog.Line) error {
			if len(before) < 2 {
				before = append(before, l.Text)
				return nil
			}
			if seen[l.Text] {
				t.Errorf("line %q twice", l.Text)
			}
			seen[l.Text] = true
			if l.Slot != 1 {
				t.Errorf("task=1 followed %q of slot %d", l.Text, l.Slot)
			}
			delays = append(delays, time.Since(l.Time))
			if len(delays) == 10 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("follow ended with %v after %d lines", err, len(delays))
		}
		var worst, sum time.Duration
		for _, d := range delays {
			worst, sum = max(worst, d), sum+d
		}
		t.Logf("follow: %d live lines, delay from the line's time to delivery: mean %s, worst %s",
			len(delays), (sum / time.Duration(len(delays))).Round(time.Millisecond), worst.Round(time.Millisecond))
		if worst > time.Second {
			t.Errorf("a line took %s to arrive, want under 1s", worst)
		}
		for _, b := range before {
			if seen[b] {
				t.Errorf("line %q came in the tail and again live", b)
			}
		}
	})

	t.Run("follow picks up a service that appears, and ends with its context", func(t *testing.T) {
		late := quiet + "-next"
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan runtimelog.Line, 100)
		done := make(chan error, 1)
		go func() {
			done <- r.Read(ctx, []string{quiet, late}, runtimelog.Query{Follow: true}, func(l runtimelog.Line) error {
				got <- l
				return nil
			})
		}()
		time.Sleep(300 * time.Millisecond)
		service(t, cli, late, image, 1, "LINES=1")
		deadline := time.After(30 * time.Second)
		for seen := false; !seen; {
			select {
			case l := <-got:
				if l.TaskID == all[0].TaskID {
					t.Fatalf("an old line of %s came live: %+v", quiet, l)
				}
				seen = l.Text == "out 1 1"
				if !seen && l.Text != "err 1 1" {
					t.Fatalf("unexpected line %q", l.Text)
				}
			case <-deadline:
				t.Fatal("no line of the new service within 30s")
			}
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the follow did not end with its context")
		}
	})
}

var errStop = errors.New("stop")
