package pagesvc

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// staticBinary builds a small static Go program (test/backend).
func staticBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "static")
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("go", "build", "-o", bin, "./test/backend")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestCheckStatic(t *testing.T) {
	bin := staticBinary(t)
	sum, size, err := checkStatic(bin)
	if err != nil || len(sum) != 64 || size == 0 {
		t.Fatalf("static binary: %q %d %v", sum, size, err)
	}

	// /bin/sh is dynamically linked on every distribution berth supports.
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	r := New(nil, Options{Instance: "berth", Network: "berth-proxy", Executable: sh})
	_, err = r.Ensure(context.Background())
	if !errors.Is(err, ErrDynamicBinary) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("dynamic binary: %v, want ErrDynamicBinary naming CGO_ENABLED=0", err)
	}

	notELF := filepath.Join(t.TempDir(), "script")
	os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755)
	if _, _, err := checkStatic(notELF); err == nil {
		t.Error("a script passed as an ELF executable")
	}
}

func TestBuildContext(t *testing.T) {
	bin := staticBinary(t)
	_, size, err := checkStatic(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeContext(&buf, bin, size); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	modes := map[string]int64{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name], _ = io.ReadAll(tr)
		modes[h.Name] = h.Mode
	}
	want := "FROM scratch\nCOPY berth /berth\nUSER 65534:65534\nEXPOSE 8080\nENTRYPOINT [\"/berth\", \"pages\"]\n"
	if string(files["Dockerfile"]) != want {
		t.Errorf("Dockerfile:\n%s\nwant:\n%s", files["Dockerfile"], want)
	}
	orig, _ := os.ReadFile(bin)
	if !bytes.Equal(files["berth"], orig) || modes["berth"]&0o111 == 0 {
		t.Errorf("berth in the context: %d bytes mode %o, want the %d-byte executable", len(files["berth"]), modes["berth"], len(orig))
	}
}

func TestServiceSpec(t *testing.T) {
	r := New(nil, Options{Instance: "prod", Network: "prod-proxy"})
	s := r.spec("berth/pages:0123456789ab")
	if s.Name != "prod-pages" || r.ServiceName() != "prod-pages" {
		t.Errorf("name %q", s.Name)
	}
	for k, v := range map[string]string{labelManaged: "true", labelInstance: "prod", labelComponent: "pages"} {
		if s.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, s.Labels[k], v)
		}
	}
	if s.EndpointSpec.Mode != "dnsrr" || *s.Mode.Replicated.Replicas != 1 ||
		s.TaskTemplate.Placement.Constraints[0] != "node.role==manager" || s.TaskTemplate.Networks[0].Target != "prod-proxy" {
		t.Errorf("spec %+v", s)
	}
}
