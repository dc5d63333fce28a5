package dbimages

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/berth-dev/berth/test/dockertest"
)

// Values that need quoting everywhere they travel: shell, SQL, option files.
const (
	pgPassword    = `pg'pa"ss$w\rd;--`
	rootPassword  = `ro'ot"pa$s\s;--`
	userPassword  = `us'er"pa$s\s;--`
	redisPassword = `re'dis"pa$s w\rd`
	database      = "app-db_1"
	dbUser        = "berth_app"
)

// engineCase is one image run as a Swarm service the way berth runs it.
type engineCase struct {
	name    string
	image   func(Images) string
	env     []string
	args    []string
	dataDir string
	// ready succeeds once the final server (not the one that initialises
	// the data directory) accepts TCP connections; readyOut must appear in
	// its output.
	ready    []string
	readyOut string
	// exercise proves the clients and dump tools and writes a marker row.
	exercise func(t *testing.T, s *service)
	// verify reads the marker back after the task was replaced.
	verify func(t *testing.T, s *service)
	// cleanStop is logged by a server that shut down cleanly.
	cleanStop string
}

func TestImagesHonourOfficialContractsAsSwarmServices(t *testing.T) {
	imgs := Ensure(t)
	cli := dockertest.Client(t)
	net := createNetwork(t, cli)

	mariadbCase := func(name, client, dump string, image func(Images) string, env []string) engineCase {
		login := []string{"-u" + dbUser, "-p" + userPassword, database}
		return engineCase{
			name:     name,
			image:    image,
			env:      env,
			dataDir:  "/var/lib/mysql",
			ready:    append([]string{client, "-h", "127.0.0.1"}, append(login, "-e", "SELECT 1")...),
			readyOut: "1",
			exercise: func(t *testing.T, s *service) {
				out := s.mustExec(t, "", nil, append([]string{client}, append(login, "-e", "select 1")...)...)
				if !strings.Contains(out, "1") {
					t.Fatalf("select 1 printed %q", out)
				}
				s.mustExec(t, "", nil, append([]string{client}, append(login, "-e",
					"CREATE TABLE survivors (name varchar(20)); INSERT INTO survivors VALUES ('kept')")...)...)
				// Root over the network, with its password only.
				out = s.mustExec(t, "", nil, client, "-h", s.dnsName(), "-uroot", "-p"+rootPassword, "-N", "-e", "SELECT current_user()")
				if strings.TrimSpace(out) != "root@%" {
					t.Fatalf("network root is %q, want root@%%", out)
				}
				if res := s.exec(t, "", nil, client, "-h", s.dnsName(), "-uroot", "-pwrong", "-e", "SELECT 1"); res.code == 0 ||
					!strings.Contains(res.stderr, "Access denied") {
					t.Fatalf("a wrong root password was not refused: %+v", res)
				}
				dumped := s.mustExec(t, "", nil, append([]string{dump, "--single-transaction"}, login...)...)
				if !strings.Contains(dumped, "CREATE TABLE `survivors`") || !strings.Contains(dumped, "'kept'") {
					t.Fatalf("%s output lacks the table or its row:\n%s", dump, dumped)
				}
			},
			verify: func(t *testing.T, s *service) {
				out := s.mustExec(t, "", nil, append([]string{client, "-N"}, append(login, "-e", "SELECT name FROM survivors")...)...)
				if strings.TrimSpace(out) != "kept" {
					t.Fatalf("after the restart the row is %q, want kept", out)
				}
			},
			cleanStop: "Shutdown complete",
		}
	}

	cases := []engineCase{
		{
			name:  "postgres",
			image: func(i Images) string { return i.Postgres },
			env: []string{"POSTGRES_PASSWORD=" + pgPassword, "POSTGRES_USER=" + dbUser, "POSTGRES_DB=" + database,
				"POSTGRES_INITDB_ARGS=--data-checksums"},
			dataDir:  "/var/lib/postgresql/data",
			ready:    []string{"pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", dbUser, "-d", database},
			readyOut: "accepting connections",
			exercise: func(t *testing.T, s *service) {
				psql := []string{"psql", "-v", "ON_ERROR_STOP=1", "-U", dbUser, "-d", database}
				s.mustExec(t, "", nil, append(psql, "-c", "CREATE TABLE survivors (name text); INSERT INTO survivors VALUES ('kept')")...)
				if out := s.mustExec(t, "", nil, append(psql, "-tAc", "SHOW data_checksums")...); strings.TrimSpace(out) != "on" {
					t.Fatalf("POSTGRES_INITDB_ARGS ignored: data_checksums=%q", out)
				}
				// Over the network the password is required.
				remote := []string{"psql", "-h", s.dnsName(), "-U", dbUser, "-d", database, "-tAc", "SELECT current_user"}
				if out := s.mustExec(t, "", []string{"PGPASSWORD=" + pgPassword}, remote...); strings.TrimSpace(out) != dbUser {
					t.Fatalf("remote current_user = %q", out)
				}
				if res := s.exec(t, "", []string{"PGPASSWORD=wrong"}, remote...); res.code == 0 ||
					!strings.Contains(res.stderr, "password authentication failed") {
					t.Fatalf("a wrong password was not refused: %+v", res)
				}
				// pg_dump as the container's default user, to stdout as berth streams it.
				dump := s.mustExec(t, "", nil, "pg_dump", "-U", dbUser, "-d", database, "-Fc")
				if !strings.HasPrefix(dump, "PGDMP") {
					t.Fatalf("pg_dump -Fc output starts with %q", dump[:min(len(dump), 16)])
				}
				// And as user postgres, read back by pg_restore.
				s.mustExec(t, "postgres", nil, "pg_dump", "-U", dbUser, "-d", database, "-Fc", "-f", "/tmp/app.dump")
				list := s.mustExec(t, "postgres", nil, "pg_restore", "--list", "/tmp/app.dump")
				if !strings.Contains(list, "TABLE public survivors") {
					t.Fatalf("pg_restore --list lacks the table:\n%s", list)
				}
			},
			verify: func(t *testing.T, s *service) {
				out := s.mustExec(t, "", nil, "psql", "-U", dbUser, "-d", database, "-tAc", "SELECT name FROM survivors")
				if strings.TrimSpace(out) != "kept" {
					t.Fatalf("after the restart the row is %q, want kept", out)
				}
			},
			cleanStop: "database system is shut down",
		},
		mariadbCase("mariadb", "mariadb", "mariadb-dump", func(i Images) string { return i.MariaDB }, []string{
			"MARIADB_ROOT_PASSWORD=" + rootPassword, "MARIADB_DATABASE=" + database,
			"MARIADB_USER=" + dbUser, "MARIADB_PASSWORD=" + userPassword,
		}),
		mariadbCase("mysql", "mysql", "mysqldump", func(i Images) string { return i.MySQL }, []string{
			"MYSQL_ROOT_PASSWORD=" + rootPassword, "MYSQL_DATABASE=" + database,
			"MYSQL_USER=" + dbUser, "MYSQL_PASSWORD=" + userPassword,
		}),
		{
			name:     "redis",
			image:    func(i Images) string { return i.Redis },
			args:     []string{"redis-server", "--requirepass", redisPassword, "--appendonly", "yes"},
			dataDir:  "/data",
			ready:    []string{"redis-cli", "-h", "127.0.0.1", "-a", redisPassword, "ping"},
			readyOut: "PONG",
			exercise: func(t *testing.T, s *service) {
				cliArgs := []string{"redis-cli", "-a", redisPassword}
				if out := s.mustExec(t, "", nil, append(cliArgs, "ping")...); strings.TrimSpace(out) != "PONG" {
					t.Fatalf("ping answered %q", out)
				}
				if out := s.mustExec(t, "", nil, append(cliArgs, "set", "survivor", "kept")...); strings.TrimSpace(out) != "OK" {
					t.Fatalf("set answered %q", out)
				}
				remote := []string{"redis-cli", "-h", s.dnsName()}
				if out := s.mustExec(t, "", nil, append(remote, "-a", redisPassword, "ping")...); strings.TrimSpace(out) != "PONG" {
					t.Fatalf("remote ping answered %q", out)
				}
				if res := s.exec(t, "", nil, append(remote, "get", "survivor")...); !strings.Contains(res.stdout+res.stderr, "NOAUTH") {
					t.Fatalf("a client without the password was not refused: %+v", res)
				}
				s.mustExec(t, "", nil, append(cliArgs, "--rdb", "/tmp/dump.rdb")...)
				if head := s.mustExec(t, "", nil, "head", "-c", "5", "/tmp/dump.rdb"); head != "REDIS" {
					t.Fatalf("the RDB file starts with %q", head)
				}
			},
			verify: func(t *testing.T, s *service) {
				out := s.mustExec(t, "", nil, "redis-cli", "-a", redisPassword, "get", "survivor")
				if strings.TrimSpace(out) != "kept" {
					t.Fatalf("after the restart the key is %q, want kept", out)
				}
			},
			cleanStop: "ready to exit",
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startService(t, cli, net, tc, tc.image(imgs))
			s.waitReady(t, tc.ready, tc.readyOut)
			tc.exercise(t, s)

			old := s.container
			s.forceUpdate(t)
			s.waitReady(t, tc.ready, tc.readyOut)
			tc.verify(t, s)

			inspect, err := cli.ContainerInspect(context.Background(), old)
			if err != nil {
				t.Fatalf("inspect the replaced container: %v", err)
			}
			if inspect.State.ExitCode != 0 {
				t.Errorf("the replaced container exited with %d, want 0 (clean shutdown)", inspect.State.ExitCode)
			}
			if logs := containerLogs(t, cli, old); !strings.Contains(logs, tc.cleanStop) {
				t.Errorf("the replaced container's logs lack %q:\n%s", tc.cleanStop, logs)
			}
		})
	}
}

func TestImagesRefuseFirstStartWithoutPassword(t *testing.T) {
	imgs := Ensure(t)
	cli := dockertest.Client(t)
	cases := []struct {
		name, image, want string
		env               []string
	}{
		{"postgres", imgs.Postgres, "superuser password is not set", []string{"POSTGRES_USER=app"}},
		{"mariadb", imgs.MariaDB, "no root password option is set", []string{"MARIADB_DATABASE=app"}},
		{"mariadb user without password", imgs.MariaDB, "MARIADB_PASSWORD is not", []string{"MARIADB_ROOT_PASSWORD=x", "MARIADB_USER=app"}},
		{"postgres bad auth method", imgs.Postgres, "POSTGRES_HOST_AUTH_METHOD must be", []string{"POSTGRES_PASSWORD=x", "POSTGRES_HOST_AUTH_METHOD=trust\nhost all all all trust"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			created, err := cli.ContainerCreate(ctx, &container.Config{Image: tc.image, Env: tc.env}, nil, nil, nil, dockertest.UniqueName("dbimg-refuse"))
			if err != nil {
				t.Fatalf("create container: %v", err)
			}
			t.Cleanup(func() {
				_ = cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
			})
			if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
				t.Fatalf("start container: %v", err)
			}
			waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
			select {
			case res := <-waitC:
				if res.StatusCode == 0 {
					t.Fatalf("the container exited 0, want a refusal")
				}
			case err := <-errC:
				t.Fatalf("wait for the container: %v", err)
			}
			if logs := containerLogs(t, cli, created.ID); !strings.Contains(logs, tc.want) {
				t.Fatalf("logs lack %q:\n%s", tc.want, logs)
			}
		})
	}
}

// service is a one-replica dnsrr Swarm service with a named volume.
type service struct {
	cli       *client.Client
	name, id  string
	container string // the running task's container
}

func (s *service) dnsName() string { return "tasks." + s.name }

func createNetwork(t *testing.T, cli *client.Client) string {
	t.Helper()
	name := dockertest.UniqueName("dbimg-net")
	if _, err := cli.NetworkCreate(context.Background(), name, network.CreateOptions{Driver: "overlay", Attachable: true}); err != nil {
		t.Fatalf("create overlay network: %v", err)
	}
	t.Cleanup(func() {
		_ = dockertest.RemoveEventually(context.Background(), func(ctx context.Context) error { return cli.NetworkRemove(ctx, name) })
	})
	return name
}

// startService creates the volume and the service (both removed at the end)
// and waits for its task's container.
func startService(t *testing.T, cli *client.Client, net string, tc engineCase, image string) *service {
	t.Helper()
	ctx := context.Background()
	name := dockertest.UniqueName("dbimg-" + tc.name)
	vol, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: name + "-data"})
	if err != nil {
		t.Fatalf("create volume: %v", err)
	}
	t.Cleanup(func() {
		_ = dockertest.RemoveEventually(context.Background(), func(ctx context.Context) error { return cli.VolumeRemove(ctx, vol.Name, true) })
	})
	grace := 30 * time.Second
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: name},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{
				Image:           image,
				Env:             tc.env,
				Args:            tc.args,
				Mounts:          []mount.Mount{{Type: mount.TypeVolume, Source: vol.Name, Target: tc.dataDir}},
				StopGracePeriod: &grace,
			},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: net}},
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: ptr(uint64(1))}},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeDNSRR},
	}
	resp, err := cli.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: false})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	t.Cleanup(func() { dockertest.RemoveService(cli, resp.ID) })
	s := &service{cli: cli, name: name, id: resp.ID}
	s.container = s.waitTask(t, "")
	return s
}

// waitTask returns the container of the service's running task, other than
// previous.
func (s *service) waitTask(t *testing.T, previous string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for time.Now().Before(deadline) {
		tasks, err := s.cli.TaskList(context.Background(), swarm.TaskListOptions{
			Filters: filters.NewArgs(filters.Arg("service", s.id)),
		})
		if err != nil {
			t.Fatalf("list tasks: %v", err)
		}
		for _, task := range tasks {
			last = string(task.Status.State) + " " + task.Status.Err
			id := ""
			if task.Status.ContainerStatus != nil {
				id = task.Status.ContainerStatus.ContainerID
			}
			if task.Status.State == swarm.TaskStateRunning && id != "" && id != previous {
				return id
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("service %s has no running task (last: %s)", s.name, last)
	return ""
}

// forceUpdate replaces the service's task, as `docker service update
// --force` does: the old container stops, a new one mounts the same volume.
func (s *service) forceUpdate(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	svc, _, err := s.cli.ServiceInspectWithRaw(ctx, s.id, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatalf("inspect service: %v", err)
	}
	svc.Spec.TaskTemplate.ForceUpdate++
	if _, err := s.cli.ServiceUpdate(ctx, s.id, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{}); err != nil {
		t.Fatalf("update service: %v", err)
	}
	s.container = s.waitTask(t, s.container)
}

// waitReady runs argv in the container until it exits 0 printing want.
func (s *service) waitReady(t *testing.T, argv []string, want string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var res execResult
	for time.Now().Before(deadline) {
		res = s.exec(t, "", nil, argv...)
		if res.code == 0 && strings.Contains(res.stdout, want) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s never became ready: %+v\nlogs:\n%s", s.name, res, containerLogs(t, s.cli, s.container))
}

type execResult struct {
	code           int
	stdout, stderr string
}

// exec runs argv in the service's container as user ("" is the image's
// default user) with extra environment variables.
func (s *service) exec(t *testing.T, user string, env []string, argv ...string) execResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	created, err := s.cli.ContainerExecCreate(ctx, s.container, container.ExecOptions{
		User: user, Env: env, Cmd: argv, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		t.Fatalf("exec %s: %v", argv[0], err)
	}
	attached, err := s.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec %s: %v", argv[0], err)
	}
	defer attached.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, attached.Reader); err != nil {
		t.Fatalf("exec %s: read output: %v", argv[0], err)
	}
	for {
		inspect, err := s.cli.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			t.Fatalf("exec %s: %v", argv[0], err)
		}
		if !inspect.Running {
			return execResult{code: inspect.ExitCode, stdout: stdout.String(), stderr: stderr.String()}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustExec is exec that fails the test unless argv exits 0; it returns stdout.
func (s *service) mustExec(t *testing.T, user string, env []string, argv ...string) string {
	t.Helper()
	res := s.exec(t, user, env, argv...)
	if res.code != 0 {
		t.Fatalf("%s exited %d: %s", argv[0], res.code, res.stderr)
	}
	return res.stdout
}

func containerLogs(t *testing.T, cli *client.Client, id string) string {
	t.Helper()
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return "(logs: " + err.Error() + ")"
	}
	defer rc.Close()
	var out bytes.Buffer
	_, _ = stdcopy.StdCopy(&out, &out, io.LimitReader(rc, 1<<20))
	return out.String()
}

func ptr[T any](v T) *T { return &v }

func TestParseRefs(t *testing.T) {
	full := "dbimages: images up to date (base abc)\n" +
		"dbimages: ref postgres=berth-test/postgres:15-1\n" +
		"dbimages: ref mariadb=berth-test/mariadb:10.11-2\n" +
		"dbimages: ref mysql=berth-test/mysql:8-compat-2\n" +
		"dbimages: ref redis=berth-test/redis:7-3\n"
	cases := []struct {
		name    string
		output  string
		want    Images
		wantErr string
	}{
		{"all four", full, Images{
			Postgres: "berth-test/postgres:15-1", MariaDB: "berth-test/mariadb:10.11-2",
			MySQL: "berth-test/mysql:8-compat-2", Redis: "berth-test/redis:7-3",
		}, ""},
		{"one missing", strings.Replace(full, "dbimages: ref redis=berth-test/redis:7-3\n", "", 1), Images{}, "ref redis=IMAGE"},
		{"unknown names ignored", full + "dbimages: ref mongo=x\n", Images{
			Postgres: "berth-test/postgres:15-1", MariaDB: "berth-test/mariadb:10.11-2",
			MySQL: "berth-test/mysql:8-compat-2", Redis: "berth-test/redis:7-3",
		}, ""},
		{"nothing", "", Images{}, "printed no"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRefs(tc.output)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseRefs = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
