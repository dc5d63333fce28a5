package swarm

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

func TestDeployLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := e.m.EnsureNetwork(ctx, e.network, nil); err != nil {
		t.Fatalf("EnsureNetwork is not idempotent: %v", err)
	}
	v1 := e.image("v1", "ENV MESSAGE=v1")
	v2 := e.image("v2", "ENV MESSAGE=v2")
	v3 := e.image("v3", "ENV MESSAGE=v3 HEALTHY_AFTER=1s", testHealthcheck)
	s := e.spec("web", v1)
	s.Files = []File{{Target: "/etc/berth/greeting", Data: []byte("hello 1")}}

	// Create.
	res, err := e.deploy(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != ActionCreate || res.Image != v1 || res.Replicas != 1 {
		t.Fatalf("create result = %+v", res)
	}
	t.Logf("TIMING create-to-running: %s (deploy returned after %s)", res.Ready, res.Duration)
	if st := e.inspect(s.Name); st.Running != 1 || st.Image != v1 {
		t.Fatalf("after create: %+v", st)
	}
	url := "http://tasks." + s.Name + ":8080"
	if got := e.probe(v1, url+"/hi"); got != "v1 /hi" {
		t.Fatalf("probe = %q", got)
	}
	if got := e.probe(v1, url+"/file/etc/berth/greeting"); got != "hello 1" {
		t.Fatalf("file = %q", got)
	}

	// Image change, start-first: a task runs at every moment.
	s.Image = v2
	s.Files[0].Data = []byte("hello 2")
	smp := e.sample(s.Name)
	res, err = e.deploy(ctx, s)
	smp.end(t, "update v1 -> v2")
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != ActionUpdate || res.Image != v2 {
		t.Fatalf("update result = %+v", res)
	}
	t.Logf("TIMING start-first update without health check: ready %s, done %s", res.Ready, res.Duration)
	if got := e.probe(v1, url+"/file/etc/berth/greeting"); got != "hello 2" {
		t.Fatalf("file after update = %q", got)
	}

	// Replica changes take the same path.
	for _, n := range []uint64{3, 1} {
		s.Replicas = n
		smp := e.sample(s.Name)
		res, err = e.deploy(ctx, s)
		smp.end(t, "scale")
		if err != nil {
			t.Fatal(err)
		}
		if st := e.inspect(s.Name); st.Running != n || st.Desired != n {
			t.Fatalf("after scaling to %d: running %d desired %d", n, st.Running, st.Desired)
		}
		t.Logf("TIMING scale to %d: %s", n, res.Duration)
	}
	if got := e.probe(v1, url+"/"); got != "v2 /" {
		t.Fatalf("probe after update = %q", got)
	}

	// An image with a health check: ready only once healthy.
	s.Image = v3
	smp = e.sample(s.Name)
	res, err = e.deploy(ctx, s)
	smp.end(t, "update v2 -> v3 (health check)")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("TIMING start-first update with health check (healthy after 1s): ready %s, done %s", res.Ready, res.Duration)
	st := e.inspect(s.Name)
	if st.Healthy != 1 || st.Image != v3 {
		t.Fatalf("after health-checked update: %+v", st)
	}

	// Configs: the current and the previous spec's are kept, older ones go.
	configs, err := e.cli.ConfigList(ctx, swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelService+"="+s.Name))})
	if err != nil {
		t.Fatal(err)
	}
	if len(configs) != 1 || configs[0].Spec.Name != configName(s.Name, []byte("hello 2")) {
		t.Fatalf("configs left: %+v", configs)
	}

	// Remove is idempotent and takes the configs.
	for range 2 {
		if err := e.m.Remove(ctx, s.Name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.m.Inspect(ctx, s.Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Inspect after Remove: %v", err)
	}
	configs, _ = e.cli.ConfigList(ctx, swarm.ConfigListOptions{Filters: filters.NewArgs(filters.Arg("label", LabelService+"="+s.Name))})
	if len(configs) != 0 {
		t.Fatalf("configs left after Remove: %d", len(configs))
	}
}

func TestDeployFailingHealthCheckRollsBack(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v1 := e.image("v1", "ENV MESSAGE=v1")
	sick := e.image("sick", "ENV NEVER_HEALTHY=1", testHealthcheck)
	s := e.spec("web", v1)
	if _, err := e.deploy(ctx, s); err != nil {
		t.Fatal(err)
	}

	s.Image = sick
	smp := e.sample(s.Name)
	res, err := e.deploy(ctx, s)
	smp.end(t, "failed update and rollback")
	var rerr *RolloutError
	if !errors.As(err, &rerr) {
		t.Fatalf("err = %v, want a *RolloutError", err)
	}
	if !strings.Contains(err.Error(), "health check failed") || !strings.Contains(err.Error(), "not ready yet") || !strings.Contains(err.Error(), s.Name) {
		t.Fatalf("err = %v, want the service, the health check and its output", err)
	}
	if res.Action != ActionRollback || res.Image != v1 {
		t.Fatalf("result = %+v", res)
	}
	t.Logf("TIMING failed health-checked update until rolled back: %s", res.Duration)
	st := e.inspect(s.Name)
	if st.Image != v1 || st.Running != 1 || st.UpdateState != string(swarm.UpdateStateRollbackCompleted) {
		t.Fatalf("after rollback: %+v", st)
	}
}

func TestDeployExitingProcess(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	v1 := e.image("v1", "ENV MESSAGE=v1")
	exits := e.image("exits", "ENV EXIT_CODE=3")

	t.Run("first deploy is scaled to zero", func(t *testing.T) {
		s := e.spec("new", exits)
		res, err := e.deploy(ctx, s)
		if err == nil || !strings.Contains(err.Error(), "exit code 3") || !strings.Contains(err.Error(), "exiting with code 3 as asked") {
			t.Fatalf("err = %v, want the exit code and the process output", err)
		}
		if res.Action != ActionCreate || res.Replicas != 0 {
			t.Fatalf("result = %+v", res)
		}
		st := e.inspect(s.Name)
		if st.Desired != 0 || st.Running != 0 {
			t.Fatalf("after failed create: %+v", st)
		}
		var withErr int
		for _, ts := range st.Tasks {
			if ts.ExitCode == 3 && ts.Error != "" {
				withErr++
			}
		}
		if withErr == 0 {
			t.Fatalf("Inspect shows no task error: %+v", st.Tasks)
		}
		// The next deploy of a working image brings it up.
		s.Image = v1
		if _, err := e.deploy(ctx, s); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("update is rolled back", func(t *testing.T) {
		s := e.spec("old", v1)
		if _, err := e.deploy(ctx, s); err != nil {
			t.Fatal(err)
		}
		s.Image = exits
		smp := e.sample(s.Name)
		res, err := e.deploy(ctx, s)
		smp.end(t, "exiting update")
		if err == nil || !strings.Contains(err.Error(), "exit code 3") {
			t.Fatalf("err = %v", err)
		}
		if st := e.inspect(s.Name); res.Action != ActionRollback || st.Image != v1 || st.Running != 1 {
			t.Fatalf("result %+v, status %+v", res, st)
		}
	})
}

func TestDeployCancelRollsBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := e.image("v1", "ENV MESSAGE=v1")
	slow := e.image("slow", "ENV HEALTHY_AFTER=10m",
		`HEALTHCHECK --interval=500ms --timeout=2s --retries=3 --start-period=10m CMD ["/app", "-healthcheck"]`)
	s := e.spec("web", v1)
	if _, err := e.deploy(ctx, s); err != nil {
		t.Fatal(err)
	}

	s.Image = slow
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	smp := e.sample(s.Name)
	res, err := e.m.Deploy(dctx, s, func(line string) {
		t.Logf("  [%5.1fs] %s", time.Since(start).Seconds(), line)
		if strings.Contains(line, "starting") {
			time.AfterFunc(time.Second, cancel)
		}
	})
	smp.end(t, "cancelled update")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	t.Logf("cancelled deploy: %v (%+v)", err, res)
	st := e.inspect(s.Name)
	if res.Action != ActionRollback || st.Image != v1 || st.Running != 1 {
		t.Fatalf("result %+v, status %+v", res, st)
	}
}
