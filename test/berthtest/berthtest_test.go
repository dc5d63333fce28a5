package berthtest

import (
	"slices"
	"strings"
	"testing"
)

func TestPluginName(t *testing.T) {
	tests := []struct {
		pkg, want string
		ok        bool
	}{
		{"github.com/berth-dev/berth/builders/dockerfile", "berth-builder-dockerfile", true},
		{"github.com/berth-dev/berth/notifiers/slack", "berth-notifier-slack", true},
		{"github.com/berth-dev/berth/providers/git/generic", "berth-git-generic", true},
		{"github.com/berth-dev/berth/providers/backup/s3", "berth-backup-s3", true},
		{"github.com/berth-dev/berth/sdk/examples/gitprovider", "berth-example-gitprovider", true},
		{"github.com/berth-dev/berth/cmd/berth", "", false},
	}
	for _, tt := range tests {
		got, ok := pluginName(tt.pkg)
		if got != tt.want || ok != tt.ok {
			t.Errorf("pluginName(%q) = %q, %v; want %q, %v", tt.pkg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewEnvironment(t *testing.T) {
	if _, err := New(Config{Bin: "berth", Dir: t.TempDir()}); err == nil {
		t.Fatal("New without a name: no error")
	}
	s, err := New(Config{Bin: "berth", Dir: "/srv/x", Name: "bt1", PluginIndex: "/idx.json", Env: []string{"BERTH_LOG_LEVEL=debug"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.DataDir != "/srv/x/data" || s.LogPath != "/srv/x/berth.log" || !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		t.Fatalf("paths: %+v", s)
	}
	ports := []int{s.HTTPPort, s.HTTPSPort, s.TraefikAPIPort}
	for _, p := range ports {
		if p <= 0 {
			t.Fatalf("ports %v", ports)
		}
	}
	for _, kv := range []string{"BERTH_NAME=bt1", "BERTH_DATA_DIR=/srv/x/data", "DATABASE_URL=", "BERTH_PLUGIN_INDEX=/idx.json", "BERTH_LOG_LEVEL=debug"} {
		if !slices.Contains(s.env, kv) {
			t.Errorf("environment lacks %s", kv)
		}
	}
	s.SetEnv("BERTH_TEST_PAUSE_AT", "build")
	s.SetEnv("BERTH_TEST_PAUSE_AT", "release")
	if n := countPrefix(s.env, "BERTH_TEST_PAUSE_AT="); n != 1 || !slices.Contains(s.env, "BERTH_TEST_PAUSE_AT=release") {
		t.Fatalf("after SetEnv twice: %d entries", n)
	}
	s.UnsetEnv("BERTH_TEST_PAUSE_AT")
	if n := countPrefix(s.env, "BERTH_TEST_PAUSE_AT="); n != 0 {
		t.Fatalf("after UnsetEnv: %d entries", n)
	}
	if s.Running() {
		t.Fatal("a server never started is running")
	}
}

func countPrefix(env []string, prefix string) int {
	n := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			n++
		}
	}
	return n
}
