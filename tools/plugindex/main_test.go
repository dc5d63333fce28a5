package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/plugins/index"
)

func TestRun(t *testing.T) {
	root := t.TempDir()
	bins := filepath.Join(root, "bin")
	cmd := exec.Command("go", "build", "-o", bins+string(os.PathSeparator),
		"github.com/berth-dev/berth/sdk/examples/notifier", "github.com/berth-dev/berth/sdk/examples/backup")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	file := filepath.Join(root, "plugin-index.json")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"no arguments", []string{"-o", file}, 2, ""},
		{"bad flag", []string{"-x"}, 2, ""},
		{"missing path", []string{"-o", file, filepath.Join(root, "nope")}, 1, ""},
		{"directory", []string{"-o", file, bins}, 0, "wrote 2 plugin(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantOut) {
				t.Errorf("output %q lacks %q", stdout.String(), tt.wantOut)
			}
		})
	}
	ix, err := index.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Plugins) != 2 || ix.Plugins[0].ID != "backup.example" || ix.Plugins[0].Path != "bin/backup" {
		t.Errorf("index = %+v", ix.Plugins)
	}
}
