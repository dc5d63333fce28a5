package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/minio/minio-go/v7"

	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/s3test"
)

type database struct {
	ID          string `json:"id"`
	ServiceName string `json:"service_name"`
}

type backupRecord struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Trigger   string `json:"trigger"`
	Key       string `json:"key"`
	SizeBytes int64  `json:"size_bytes"`
	SHA256    string `json:"sha256"`
	Error     string `json:"error"`
}

// TestDatabaseBackupAndRestore drives berth server end to end: an S3
// destination on a real S3 server (versitygw), a PostgreSQL database from
// the local test image, a policy whose schedule fires during the test,
// then the data destroyed and restored from the scheduled backup, through
// the API and the CLI.
func TestDatabaseBackupAndRestore(t *testing.T) {
	images := dbimages.Ensure(t)
	s3 := s3test.Start(t)
	s := newServer(t)

	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "data"}, 201, &proj)

	var dest struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/organizations/"+proj.OrganizationID+"/backup-destinations", map[string]any{
		"name": "versity", "plugin_id": "backup.s3", "settings": map[string]any{
			"endpoint": s3.Endpoint, "region": s3.Region, "bucket": s3.Bucket, "path_style": true, "prefix": "berth",
			"access_key_id": s3.AccessKey, "secret_access_key": s3.SecretKey}}, 201, &dest)
	var probe struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}
	s.Call("POST", "/backup-destinations/"+dest.ID+"/test", nil, 200, &probe)
	if !probe.OK {
		t.Fatalf("destination test: %s", probe.Message)
	}

	var db database
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/databases", map[string]any{
		"name": "shop", "engine": "postgres", "image": images.Postgres}, 201, &db)
	s.Call("POST", "/databases/"+db.ID+"/deploy", nil, 200, nil)
	var conn struct {
		User, Password, Database, URL string
	}
	s.Call("GET", "/databases/"+db.ID+"/connection", nil, 200, &conn)
	if conn.Password == "" || !strings.HasPrefix(conn.URL, "postgresql://") {
		t.Fatalf("connection = %+v", conn)
	}

	psql := func(sql string) string {
		t.Helper()
		return s.execIn(db.ServiceName, []string{"PGPASSWORD=" + conn.Password},
			"psql", "-h", "127.0.0.1", "-U", conn.User, "-d", conn.Database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql)
	}
	s.waitFor("postgres accepting connections", 60*time.Second, func() bool {
		_, err := s.execErr(db.ServiceName, []string{"PGPASSWORD=" + conn.Password},
			"psql", "-h", "127.0.0.1", "-U", conn.User, "-d", conn.Database, "-c", "select 1")
		return err == nil
	})
	psql(`CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL);
		INSERT INTO orders SELECT g, 'item-' || g FROM generate_series(1, 500) g`)
	const digest = `SELECT count(*) || ':' || md5(string_agg(id || item, ',' ORDER BY id)) FROM orders`
	want := psql(digest)

	var policy struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/databases/"+db.ID+"/backup-policies", map[string]any{"destination_id": dest.ID,
		"schedule": "*/3 * * * * *", "time_zone": "Europe/Paris", "keep_latest": 2, "retries": 1, "enabled": true}, 201, &policy)

	var done backupRecord
	s.waitFor("a scheduled backup to succeed", 90*time.Second, func() bool {
		var list struct {
			Items []backupRecord `json:"items"`
		}
		s.Call("GET", "/databases/"+db.ID+"/backups", nil, 200, &list)
		for _, b := range list.Items {
			if b.Status == "failed" {
				t.Fatalf("scheduled backup failed: %s", b.Error)
			}
			if b.Status == "succeeded" && b.Trigger == "schedule" {
				done = b
				return true
			}
		}
		return false
	})
	s.Call("DELETE", "/backup-policies/"+policy.ID, nil, 204, nil)
	if done.SizeBytes <= 0 || len(done.SHA256) != 64 || !strings.Contains(done.Key, "postgres") {
		t.Fatalf("backup record = %+v", done)
	}
	// The object really is on the S3 server, under the destination's prefix.
	info, err := s3.Client(t).StatObject(context.Background(), s3.Bucket, "berth/"+done.Key, minio.StatObjectOptions{})
	if err != nil || info.Size != done.SizeBytes {
		t.Fatalf("object on S3: %+v, %v (record size %d)", info, err, done.SizeBytes)
	}

	psql(`DROP TABLE orders`)
	out := s.cli("backups", "restore", "--database", db.ID, "--backup", done.ID)
	t.Logf("berth backups restore: %s", out)
	if got := psql(digest); got != want {
		t.Fatalf("after restore: %s, want %s", got, want)
	}
	var listed []backupRecord
	if err := json.Unmarshal([]byte(s.cli("backups", "list", "--database", db.ID, "--output", "json")), &listed); err != nil {
		t.Fatalf("berth backups list --output json: %v", err)
	}
	if len(listed) == 0 {
		t.Fatal("berth backups list shows nothing")
	}
}

// cli runs the berth CLI against this server and returns its stdout,
// failing the test when it exits non-zero.
func (s *server) cli(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(bins.Berth, args...)
	cmd.Env = append(cmd.Environ(), "HOME="+s.t.TempDir(), "BERTH_SERVER=http://"+s.Addr, "BERTH_TOKEN="+s.Key, "BERTH_OUTPUT=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("berth %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// waitFor polls cond until it holds or the timeout passes.
func (s *server) waitFor(what string, timeout time.Duration, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// execIn runs argv in the running container of a Swarm service and returns
// its stdout, failing the test on a non-zero exit.
func (s *server) execIn(service string, env []string, argv ...string) string {
	s.t.Helper()
	out, err := s.execErr(service, env, argv...)
	if err != nil {
		s.t.Fatalf("%v: %v", argv, err)
	}
	return out
}

func (s *server) execErr(service string, env []string, argv ...string) (string, error) {
	ctx := context.Background()
	cs, err := s.Docker.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.Labels["com.docker.swarm.service.name"] != service || c.State != "running" {
			continue
		}
		ex, err := s.Docker.ContainerExecCreate(ctx, c.ID, container.ExecOptions{Cmd: argv, Env: env, AttachStdout: true, AttachStderr: true})
		if err != nil {
			return "", err
		}
		att, err := s.Docker.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
		if err != nil {
			return "", err
		}
		var stdout, stderr bytes.Buffer
		_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
		att.Close()
		if err != nil {
			return "", err
		}
		st, err := s.Docker.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			return "", err
		}
		if st.ExitCode != 0 {
			return "", fmt.Errorf("exit %d: %s", st.ExitCode, stderr.String())
		}
		return strings.TrimSpace(stdout.String()), nil
	}
	return "", fmt.Errorf("no running container of %s", service)
}
