package metrics_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/metrics"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/google/uuid"
)

// BenchmarkSampling100 measures berth's own cost of one round over 100
// running containers (one service of 100 idle burner replicas): CPU time
// of this process per round (getrusage, the Docker Engine's own work not
// included) and what that is of one core at the default 15 s interval,
// plus the heap the reader keeps.
//
//	go test -run '^$' -bench Sampling100 -benchtime 20x ./core/metrics/
func BenchmarkSampling100(b *testing.B) {
	const n = 100
	cli := dockertest.Client(b)
	ctx := context.Background()
	if burnerImage == "" {
		burnerImage = "berth-test/burner:" + dockertest.UniqueName("m")
		dockertest.BuildGoImage(b, cli, "./test/burner", burnerImage, true)
	}
	replicas := uint64(n)
	resp, err := cli.ServiceCreate(ctx, swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: dockertest.UniqueName("cost-"), Labels: map[string]string{
			"dev.berth.managed": "true", "dev.berth.app-id": uuid.NewString()}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: burnerImage, Env: []string{"CPU_MILLICORES=0", "MEM_MB=1"}}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}, swarm.ServiceCreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { dockertest.RemoveService(cli, resp.ID) })
	deadline := time.Now().Add(10 * time.Minute)
	for {
		cs, err := cli.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+resp.ID))})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) >= n {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d containers after 10 minutes", len(cs), n)
		}
		time.Sleep(2 * time.Second)
	}
	w := metrics.NewWorkloads(cli)
	w.RestartsEvery = 0 // read the task history every round: the worst case
	host, err := metrics.NewHost("/proc")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Read(ctx, time.Now()); err != nil { // the first round fills the counters
		b.Fatal(err)
	}
	cpu0, wall0 := rusage(), time.Now()
	var tasks int
	for b.Loop() {
		if _, err := host.Read(time.Now()); err != nil {
			b.Fatal(err)
		}
		s, err := w.Read(ctx, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		tasks = 0
		for _, x := range s {
			tasks += x.Tasks
		}
	}
	cpu, wall := rusage()-cpu0, time.Since(wall0)
	perRound := cpu / time.Duration(b.N)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(tasks), "containers")
	b.ReportMetric(float64(perRound.Microseconds())/1000, "cpu-ms/round")
	b.ReportMetric(float64(perRound)/float64(15*time.Second)*100, "%core@15s")
	b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/round")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.Logf("%d rounds over %d containers: %s CPU per round (%s wall); %.2f%% of one core at 15 s; heap in use %.1f MiB",
		b.N, tasks, perRound, wall/time.Duration(b.N), float64(perRound)/float64(15*time.Second)*100, float64(ms.HeapInuse)/(1<<20))
}

// rusage is this process's CPU time so far.
func rusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
