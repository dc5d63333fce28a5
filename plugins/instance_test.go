package plugins

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	h := &Host{opts: Options{RestartBackoff: 250 * time.Millisecond, MaxRestartBackoff: 2 * time.Second}}
	tests := []struct {
		crashes int
		want    time.Duration
	}{
		{0, 250 * time.Millisecond},
		{1, 250 * time.Millisecond},
		{2, 500 * time.Millisecond},
		{3, time.Second},
		{4, 2 * time.Second},
		{5, 2 * time.Second},
		{50, 2 * time.Second},
	}
	for _, tt := range tests {
		i := &instance{h: h, crashes: tt.crashes}
		if got := i.backoff(); got != tt.want {
			t.Errorf("backoff after %d crashes = %s, want %s", tt.crashes, got, tt.want)
		}
	}
}

func TestPluginEnv(t *testing.T) {
	t.Setenv("PATH", "/usr/bin")
	t.Setenv("HOME", "/home/berth")
	t.Setenv("SECRET_KEY", "nope")
	tests := []struct {
		name  string
		extra map[string]string
		want  []string
	}{
		{"defaults", nil, []string{"PATH=/usr/bin", "HOME=/home/berth"}},
		{"extra sorted", map[string]string{"B": "2", "A": "1"}, []string{"PATH=/usr/bin", "HOME=/home/berth", "A=1", "B=2"}},
		{"override", map[string]string{"HOME": "/var/lib/berth/plugins"}, []string{"PATH=/usr/bin", "HOME=/var/lib/berth/plugins"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pluginEnv(tt.extra)
			var filtered []string
			for _, kv := range got {
				if len(kv) < 7 || kv[:7] != "TMPDIR=" {
					filtered = append(filtered, kv)
				}
			}
			if len(filtered) != len(tt.want) {
				t.Fatalf("pluginEnv = %v, want %v", got, tt.want)
			}
			for i := range tt.want {
				if filtered[i] != tt.want[i] {
					t.Errorf("pluginEnv = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
