// Package dbimages gives berth's tests Docker images of the databases berth
// runs, honouring the official images' contracts, on a machine that cannot
// pull any image.
//
// The images come from scripts/dbimages.sh: it debootstraps Debian bookworm
// (minbase) with Debian's postgresql, mariadb-server and redis-server
// packages, imports that root file system as berth-test/dbbase:bookworm-<hash>,
// and builds one image per engine FROM it with the Dockerfile and entrypoint
// committed under test/dbimages/images/<engine>/:
//
//   - Postgres (PostgreSQL 15): the postgres image's POSTGRES_PASSWORD,
//     POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS,
//     POSTGRES_HOST_AUTH_METHOD, PGDATA=/var/lib/postgresql/data, port 5432.
//   - MariaDB (MariaDB 10.11): the mariadb image's MARIADB_ROOT_PASSWORD,
//     MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD (each also read from
//     its MYSQL_ name), data in /var/lib/mysql, port 3306.
//   - MySQL: the same image under a second name, for berth's mysql engine,
//     which passes the mysql image's MYSQL_ variables.
//   - Redis (Redis 7): the redis image's `redis-server [args]` command, data
//     and working directory /data, port 6379.
//
// Every entrypoint supports the <VAR>_FILE variants and
// /docker-entrypoint-initdb.d. `make test` builds the images before the
// tests; Ensure builds them too when they are missing or out of date (the
// first build takes a few minutes, a rerun a fraction of a second).
package dbimages

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
)

// Images are the references of the local database images. Each names the
// content-addressed tag of the current build (e.g.
// berth-test/postgres:15-<hash>), which stays put while another worktree
// sharing the Docker Engine rebuilds the moving tag (berth-test/postgres:15).
type Images struct {
	// Postgres follows the official postgres:15 image's contract.
	Postgres string
	// MariaDB follows the official mariadb image's contract (MariaDB 10.11).
	MariaDB string
	// MySQL is the MariaDB image tagged for berth's mysql engine; it takes
	// the official mysql image's MYSQL_* variables.
	MySQL string
	// Redis follows the official redis:7 image's contract.
	Redis string
}

// buildTimeout bounds one run of the script: a cold build debootstraps and
// downloads about 130 MB of packages.
const buildTimeout = 30 * time.Minute

var (
	once     sync.Once
	images   Images
	buildLog string
	buildErr error
)

// Ensure returns the database images, running scripts/dbimages.sh once per
// test process to build whatever is missing or out of date. It fails the
// test, never skips it, when Docker is missing or the build fails, logging
// the script's output.
func Ensure(t testing.TB) Images {
	t.Helper()
	once.Do(func() {
		images, buildLog, buildErr = build(dockertest.RepoRoot(t))
	})
	if buildErr != nil {
		if buildLog != "" {
			t.Logf("scripts/dbimages.sh output:\n%s", buildLog)
		}
		t.Fatalf("database test images: %v", buildErr)
	}
	return images
}

// build checks that a Docker Engine answers, runs the script from the
// repository root and reads the image references it prints last.
func build(root string) (Images, string, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return Images{}, "", fmt.Errorf("the docker CLI is not installed (%w): run `make test`, which installs and starts Docker", err)
	}
	if err := pingDocker(); err != nil {
		return Images{}, "", fmt.Errorf("the Docker Engine is not reachable (%w): run `make test`, which installs and starts it", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "scripts", "dbimages.sh"))
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return Images{}, out.String(), fmt.Errorf("scripts/dbimages.sh: %w", err)
	}
	imgs, err := parseRefs(out.String())
	if err != nil {
		return Images{}, out.String(), err
	}
	return imgs, out.String(), nil
}

func pingDocker() error {
	cli, err := dockertest.New(context.Background(), dockertest.Engine)
	if err != nil {
		return err
	}
	return cli.Close()
}

// parseRefs reads the script's `dbimages: ref NAME=IMAGE` lines.
func parseRefs(output string) (Images, error) {
	var imgs Images
	fields := map[string]*string{
		"postgres": &imgs.Postgres,
		"mariadb":  &imgs.MariaDB,
		"mysql":    &imgs.MySQL,
		"redis":    &imgs.Redis,
	}
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "dbimages: ref ")
		if !ok {
			continue
		}
		name, ref, ok := strings.Cut(line, "=")
		if field, known := fields[name]; ok && known {
			*field = ref
		}
	}
	for name, field := range fields {
		if *field == "" {
			return Images{}, fmt.Errorf("scripts/dbimages.sh printed no `dbimages: ref %s=IMAGE` line", name)
		}
	}
	return imgs, nil
}
