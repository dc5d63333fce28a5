// Package nixpackstest gives the tests of berth's Nixpacks builder what
// they need on a machine without nixpacks: the stand-in nixpacks command
// (test/nixpacks/nixpacks, see its documentation for what it implements),
// a local base image to build FROM (the debootstrap Debian image of
// scripts/dbimages.sh) and a small app whose nixpacks.toml builds offline.
package nixpackstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
)

// StandIn compiles the stand-in nixpacks into a directory of its own and
// returns the binary's path (…/nixpacks).
func StandIn(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(dockertest.SearchableTempDir(t), "nixpacks")
	goBuild(t, bin, "./test/nixpacks/nixpacks")
	return bin
}

// goBuild compiles a main package of the repository statically.
func goBuild(t testing.TB, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = dockertest.RepoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// BaseImage returns the local Debian base image (berth-test/dbbase:…),
// building it with scripts/dbimages.sh when missing. It fails the test when
// it cannot be had.
func BaseImage(t testing.TB) string {
	t.Helper()
	dbimages.Ensure(t)
	cli := dockertest.EngineClient(t)
	list, err := cli.ImageList(context.Background(), image.ListOptions{Filters: filters.NewArgs(filters.Arg("reference", "berth-test/dbbase"))})
	if err != nil {
		t.Fatalf("listing images: %v", err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Created > list[j].Created })
	for _, img := range list {
		if len(img.RepoTags) > 0 {
			return img.RepoTags[0]
		}
	}
	t.Fatalf("no berth-test/dbbase image after scripts/dbimages.sh: run make test-deps")
	return ""
}

// Config is the nixpacks.toml of App: a test backend (test/backend) as
// "web", installed in the install phase (which waits 3 s, standing for a
// dependency download, and sees only web, so its layer is cached while the
// rest of the app changes), a build phase that prints message.txt, and a
// start command serving message.txt's content on port 8080. BUILD_ID, a
// variable unique to each AppFiles call, keeps the layers of earlier test
// runs out of the first build.
const Config = `buildImage = '%s'

[variables]
PORT = '8080'
BUILD_ID = '%s'

[phases.install]
onlyIncludeFiles = ['web']
cmds = ['install -m 755 web /usr/local/bin/web', 'sleep 3']

[phases.build]
cmds = ['cat message.txt']

[start]
cmd = 'MESSAGE="$(cat /app/message.txt)" exec web'
`

// AppFiles returns the test app's files: web (the test backend,
// compiled), nixpacks.toml (Config FROM base) and message.txt holding
// message.
func AppFiles(t testing.TB, base, message string) map[string]string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "web")
	goBuild(t, bin, "./test/backend")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"web": string(data), "nixpacks.toml": fmt.Sprintf(Config, base, strconv.FormatInt(time.Now().UnixNano(), 36)), "message.txt": message + "\n"}
}

// App writes the test app (AppFiles) into dir.
func App(t testing.TB, dir, base, message string) {
	t.Helper()
	for name, content := range AppFiles(t, base, message) {
		write(t, filepath.Join(dir, name), content)
	}
}

func write(t testing.TB, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
