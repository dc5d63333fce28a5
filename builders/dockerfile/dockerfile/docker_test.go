package dockerfile

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/berth-dev/berth/sdk"
)

// writeTree writes files (name -> content) under dir. A content starting
// with "->" makes a symbolic link to the rest.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// imageLabels returns the labels of an image.
func imageLabels(t testing.TB, cli *client.Client, ref string) map[string]string {
	t.Helper()
	img, err := cli.ImageInspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("inspecting %s: %v", ref, err)
	}
	if img.Config == nil {
		return nil
	}
	return img.Config.Labels
}

// imageFiles stats paths in an image through a created (never started)
// container, returning each path's stat or nil when it does not exist.
func imageFiles(t testing.TB, cli *client.Client, ref string, paths ...string) map[string]*container.PathStat {
	t.Helper()
	ctx := context.Background()
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: ref, Cmd: []string{"/none"}}, nil, nil, nil, "")
	if err != nil {
		t.Fatalf("creating a container of %s: %v", ref, err)
	}
	defer cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	out := map[string]*container.PathStat{}
	for _, p := range paths {
		st, err := cli.ContainerStatPath(ctx, c.ID, p)
		if err == nil {
			out[p] = &st
		} else {
			out[p] = nil
		}
	}
	return out
}

// layerLine is a classic builder's output line naming the image a step made.
var layerLine = regexp.MustCompile(`^ ---> ([0-9a-f]{12})$`)

// cleanupLayers removes, when the test ends, the untagged images the steps
// of a build made (stages that are not part of the final image, steps of a
// failed or cancelled build). Images still in use are kept.
func cleanupLayers(t testing.TB, cli *client.Client, log func() string) {
	t.Cleanup(func() {
		for _, line := range strings.Split(log(), "\n") {
			if m := layerLine.FindStringSubmatch(line); m != nil {
				_, _ = cli.ImageRemove(context.Background(), m[1], image.RemoveOptions{PruneChildren: true})
			}
		}
	})
}

// buildSleeper compiles testdata/sleeper, statically, into dir.
func buildSleeper(t testing.TB, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "sleeper"), "./testdata/sleeper")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the sleeper: %v\n%s", err, out)
	}
}

// recorder collects log lines with the time they arrived.
type recorder struct {
	mu    sync.Mutex
	lines []sdk.LogLine
	at    []time.Time
}

func (r *recorder) log(l sdk.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, l)
	r.at = append(r.at, time.Now())
}

func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, l := range r.lines {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// firstAt returns when the first line containing s arrived.
func (r *recorder) firstAt(s string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range r.lines {
		if strings.Contains(l.Text, s) {
			return r.at[i], true
		}
	}
	return time.Time{}, false
}
