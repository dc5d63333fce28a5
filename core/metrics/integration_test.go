package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/metrics"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
	"github.com/docker/go-units"
	"github.com/google/uuid"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if burnerImage != "" {
		dockertest.RemoveImages(burnerImage)
	}
	os.Exit(code)
}

// Tolerances of the comparisons with docker stats: both measure the same
// container over windows a few seconds apart on a shared machine.
const (
	cpuTolerance = 15.0    // percentage points of one core
	memTolerance = 4 << 20 // bytes
)

// TestHostAgreesWithProc: the host figures match what /proc and statfs
// say right after.
func TestHostAgreesWithProc(t *testing.T) {
	h, err := metrics.NewHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Read(time.Now()); err != nil {
		t.Fatal(err)
	}
	busy0, total0 := procStat(t)
	time.Sleep(time.Second)
	s, err := h.Read(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	busy1, total1 := procStat(t)
	mem := procMeminfo(t)
	if s.MemTotalBytes != mem["MemTotal"] {
		t.Errorf("MemTotalBytes = %d, /proc/meminfo MemTotal %d", s.MemTotalBytes, mem["MemTotal"])
	}
	used := mem["MemTotal"] - mem["MemAvailable"]
	if diff := absDiff(float64(s.MemUsedBytes), float64(used)); diff > 0.02*float64(mem["MemTotal"]) {
		t.Errorf("MemUsedBytes = %d, /proc/meminfo says %d", s.MemUsedBytes, used)
	}
	cpu := (busy1 - busy0) / (total1 - total0) * 100
	if s.CPUPercent < 0 || s.CPUPercent > 100 || absDiff(s.CPUPercent, cpu) > 25 {
		t.Errorf("CPUPercent = %.1f, /proc/stat over about the same second %.1f", s.CPUPercent, cpu)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	l1, _ := strconv.ParseFloat(strings.Fields(string(load))[0], 64)
	if absDiff(s.Load1, l1) > 0.5 {
		t.Errorf("Load1 = %.2f, /proc/loadavg %.2f", s.Load1, l1)
	}
	var root *metrics.DiskSample
	for i, d := range s.Disks {
		if d.Mount == "/" {
			root = &s.Disks[i]
		}
	}
	if root == nil {
		t.Fatalf("no disk for / in %+v", s.Disks)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs("/", &fs); err != nil {
		t.Fatal(err)
	}
	if total := fs.Blocks * uint64(fs.Bsize); root.TotalBytes != total {
		t.Errorf("/ total %d, statfs %d", root.TotalBytes, total)
	}
	if used := (fs.Blocks - fs.Bfree) * uint64(fs.Bsize); absDiff(float64(root.UsedBytes), float64(used)) > 256<<20 {
		t.Errorf("/ used %d, statfs %d", root.UsedBytes, used)
	}
	if s.NetRxBps < 0 || s.NetTxBps < 0 {
		t.Errorf("negative network rates %+v", s)
	}
}

// TestWorkloadAgreesWithDockerStats runs a container burning half a core
// and holding 64 MiB, and compares berth's figures with docker stats.
func TestWorkloadAgreesWithDockerStats(t *testing.T) {
	cli := dockertest.Client(t)
	ctx := context.Background()
	appID := uuid.New()
	svc := burner(t, cli, appID, 500, 64)
	cid := runningContainer(t, cli, svc)

	w := metrics.NewWorkloads(cli)
	if _, err := w.Read(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	dockerCPU, dockerMem := dockerStats(t, cid)
	time.Sleep(time.Second)
	samples, err := w.Read(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got *metrics.WorkloadSample
	for i, s := range samples {
		if s.ID == appID {
			got = &samples[i]
		}
	}
	if got == nil {
		t.Fatalf("no sample of application %s in %+v", appID, samples)
	}
	t.Logf("berth: cpu %.1f%% mem %d; docker stats: cpu %.1f%% mem %d", got.CPUPercent, got.MemUsedBytes, dockerCPU, dockerMem)
	if got.Kind != metrics.KindApplication || got.Tasks != 1 {
		t.Errorf("sample %+v, want one application task", got)
	}
	if absDiff(got.CPUPercent, dockerCPU) > cpuTolerance {
		t.Errorf("CPU %.1f%%, docker stats %.1f%% (tolerance %.0f points)", got.CPUPercent, dockerCPU, cpuTolerance)
	}
	// The burner asks for half a core; on a shared machine it may get
	// less, never more.
	if got.CPUPercent < 5 || got.CPUPercent > 50+cpuTolerance {
		t.Errorf("CPU %.1f%%, the burner uses up to 50%% of a core", got.CPUPercent)
	}
	if absDiff(float64(got.MemUsedBytes), float64(dockerMem)) > memTolerance {
		t.Errorf("memory %d, docker stats %d (tolerance %d)", got.MemUsedBytes, dockerMem, memTolerance)
	}
	if got.MemUsedBytes < 64<<20 || got.MemUsedBytes > 96<<20 {
		t.Errorf("memory %d, the burner holds 64 MiB", got.MemUsedBytes)
	}
	if got.MemLimitBytes < 128<<20 || got.MemLimitBytes > 130<<20 {
		t.Errorf("memory limit %d, the service's is 128 MiB", got.MemLimitBytes)
	}
}

// TestSamplerStoresAndExports: a round is stored, read back as a series,
// and exported in the Prometheus format with names.
func TestSamplerStoresAndExports(t *testing.T) {
	cli := dockertest.Client(t)
	ctx := context.Background()
	st, app := newStore(t)
	svc := burner(t, cli, app.ID, 200, 16)
	runningContainer(t, cli, svc)
	host, err := metrics.NewHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	s := metrics.New(metrics.Options{Store: st, Host: host, Workloads: metrics.NewWorkloads(cli), NodeID: "node-1", NodeName: "vm"})
	var rounds int
	s.OnRound(func(context.Context, metrics.Round) { rounds++ })
	from := time.Now().Add(-time.Minute)
	for range 2 {
		if _, err := s.Sample(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	if rounds != 2 {
		t.Fatalf("OnRound ran %d times, want 2", rounds)
	}
	series, err := st.MetricSeries(ctx, store.MetricKindApplication, app.ID.String(), from, time.Now().Add(time.Minute), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || series[1].CPUPercent <= 0 || series[1].MemUsedBytes < 16<<20 || series[1].Tasks != 1 {
		t.Fatalf("application series %+v, want 2 points with CPU and memory", series)
	}
	hosts, err := st.MetricSeries(ctx, store.MetricKindServer, "node-1", from, time.Now().Add(time.Minute), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[1].MemLimitBytes == 0 || len(hosts[1].Disks) == 0 {
		t.Fatalf("server series %+v, want 2 points with memory and disks", hosts)
	}
	servers, err := st.MetricServers(ctx)
	if err != nil || len(servers) != 1 || servers[0].Name != "vm" {
		t.Fatalf("servers %+v, %v", servers, err)
	}
	var buf bytes.Buffer
	s.WritePrometheus(&buf)
	out := buf.String()
	for _, want := range []string{
		`berth_server_cpu_percent{server="node-1",name="vm"} `,
		`berth_server_disk_total_bytes{server="node-1",name="vm",mount="/"} `,
		`berth_app_cpu_percent{app_id="` + app.ID.String() + `",app="web",project="shop",environment="production"} `,
		`berth_app_memory_used_bytes{app_id="` + app.ID.String() + `",app="web",project="shop",environment="production"} `,
		`berth_app_restarts_last_hour{app_id="`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Prometheus output lacks %q:\n%s", want, out)
		}
	}
}

// newStore opens a migrated store on a fresh database with one
// application, web in project shop.
func newStore(t *testing.T) (*store.Store, store.Application) {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.New(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, org, err := st.Setup(ctx, store.SetupInput{Email: "a@example.com", Name: "A", PasswordHash: "x", Organization: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	_, env, err := st.CreateProject(ctx, org.ID, "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateApplication(ctx, env.ID, store.ApplicationSpec{Name: "web", SourceType: "image", Image: "nginx", Port: 80, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	return st, a
}

var burnerImage string

// burner runs test/burner as a Swarm service labelled as application
// appID's, with a 128 MiB memory limit.
func burner(t *testing.T, cli *client.Client, appID uuid.UUID, millicores, mb int) string {
	t.Helper()
	if burnerImage == "" {
		burnerImage = "berth-test/burner:" + strings.ToLower(dockertest.UniqueName("m"))
		dockertest.BuildGoImage(t, cli, "./test/burner", burnerImage, true) // removed by TestMain
	}
	replicas := uint64(1)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: dockertest.UniqueName("burner-"), Labels: map[string]string{
			"dev.berth.managed": "true", "dev.berth.app-id": appID.String()}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: burnerImage, Env: []string{
				"CPU_MILLICORES=" + strconv.Itoa(millicores), "MEM_MB=" + strconv.Itoa(mb)}},
			Resources: &swarm.ResourceRequirements{Limits: &swarm.Limit{MemoryBytes: 128 << 20}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}
	resp, err := cli.ServiceCreate(context.Background(), spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dockertest.RemoveService(cli, resp.ID) })
	return resp.ID
}

// runningContainer waits for the service's container to run and hold its
// memory, and returns its id.
func runningContainer(t *testing.T, cli *client.Client, service string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		cs, err := cli.ContainerList(context.Background(), container.ListOptions{
			Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+service))})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 1 && cs[0].State == "running" {
			time.Sleep(time.Second) // the burner allocates at start
			return cs[0].ID
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("service %s has no running container after 30s", service)
	return ""
}

// dockerStats runs docker stats --no-stream on a container.
func dockerStats(t *testing.T, id string) (cpu float64, mem uint64) {
	t.Helper()
	out, err := exec.Command("docker", "stats", "--no-stream", "--format", "{{.CPUPerc}}|{{.MemUsage}}", id).Output()
	if err != nil {
		t.Fatalf("docker stats: %v", err)
	}
	parts := strings.Split(strings.TrimSpace(string(out)), "|")
	if len(parts) != 2 {
		t.Fatalf("docker stats said %q", out)
	}
	if cpu, err = strconv.ParseFloat(strings.TrimSuffix(parts[0], "%"), 64); err != nil {
		t.Fatalf("docker stats CPU %q: %v", parts[0], err)
	}
	used := strings.TrimSpace(strings.Split(parts[1], "/")[0])
	n, err := units.RAMInBytes(used)
	if err != nil {
		t.Fatalf("docker stats memory %q: %v", used, err)
	}
	return cpu, uint64(n)
}

func procStat(t *testing.T) (busy, total float64) {
	t.Helper()
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1:]
	var v [10]float64
	for i := range min(len(f), 10) {
		v[i], _ = strconv.ParseFloat(f[i], 64)
	}
	idle := v[3] + v[4]
	busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return busy, busy + idle
}

func procMeminfo(t *testing.T) map[string]uint64 {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 {
			n, _ := strconv.ParseUint(fields[1], 10, 64)
			out[strings.TrimSuffix(fields[0], ":")] = n << 10
		}
	}
	return out
}

func absDiff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}
