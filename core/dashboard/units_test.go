package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/berth-dev/berth/core/service"
	"reflect"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

func TestParseSchemaKeepsPropertyOrder(t *testing.T) {
	s, err := parseSchema(json.RawMessage(webhookSchema))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range s.Properties {
		names = append(names, p.Name)
	}
	want := []string{"url", "secret", "timeout_seconds", "events", "verbose", "headers"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("properties %v, want %v", names, want)
	}
	for _, bad := range []string{`{"type": "array"}`, `{"properties": []}`, `not json`} {
		if _, err := parseSchema(json.RawMessage(bad)); err == nil {
			t.Errorf("parseSchema(%s) accepted", bad)
		}
	}
	if s, err := parseSchema(nil); err != nil || len(s.Properties) != 0 {
		t.Errorf("empty schema: %v %v", s, err)
	}
}

func TestBuildForm(t *testing.T) {
	s, err := parseSchema(json.RawMessage(`{"type":"object","required":["name","mode"],"properties":{
		"name": {"type": "string", "title": "Name", "maxLength": 20, "examples": ["web"]},
		"token": {"type": ["string", "null"], "writeOnly": true, "default": "never-shown"},
		"port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8080},
		"ratio": {"type": "number", "default": 0.5},
		"mode": {"enum": ["fast", "safe"], "default": "safe"},
		"debug": {"type": "boolean", "default": true},
		"tags": {"type": "array"}
	}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		values map[string]string
		errs   map[string]string
		check  func(t *testing.T, f settingsForm)
	}{
		{"defaults", nil, nil, func(t *testing.T, f settingsForm) {
			byName := fieldsByName(f)
			if n := byName["name"]; n.Control != "text" || !n.Required || n.MaxLength != "20" || n.Placeholder != "e.g. web" || n.Label != "Name" {
				t.Errorf("name field %+v", n)
			}
			if tok := byName["token"]; tok.Control != "password" || tok.Value != "" || tok.Label != "token" {
				t.Errorf("write-only field %+v", tok)
			}
			if p := byName["port"]; p.Control != "number" || p.Step != "1" || p.Min != "1" || p.Max != "65535" || p.Value != "8080" {
				t.Errorf("integer field %+v", p)
			}
			if r := byName["ratio"]; r.Step != "any" || r.Value != "0.5" {
				t.Errorf("number field %+v", r)
			}
			if m := byName["mode"]; m.Control != "select" || len(m.Options) != 2 || !m.Options[1].Selected {
				t.Errorf("required enum %+v", m)
			}
			if d := byName["debug"]; d.Control != "checkbox" || !d.Checked {
				t.Errorf("boolean %+v", d)
			}
			if !reflect.DeepEqual(f.Unsupported, []string{"tags"}) {
				t.Errorf("unsupported %v", f.Unsupported)
			}
		}},
		{"submitted values and errors", map[string]string{"name": "api", "port": "", "debug": "false", "mode": "fast"},
			map[string]string{"port": "is required", "other": "unknown setting"}, func(t *testing.T, f settingsForm) {
				byName := fieldsByName(f)
				if byName["name"].Value != "api" || byName["port"].Value != "" || byName["port"].Error != "is required" {
					t.Errorf("submitted fields %+v", f.Fields)
				}
				if byName["debug"].Checked || !byName["mode"].Options[0].Selected {
					t.Errorf("submitted boolean/enum not kept")
				}
				if f.Message != "other: unknown setting" {
					t.Errorf("form message %q", f.Message)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, buildForm(s, tt.values, tt.errs)) })
	}
}

func fieldsByName(f settingsForm) map[string]schemaField {
	out := map[string]schemaField{}
	for _, fl := range f.Fields {
		out[fl.Name] = fl
	}
	return out
}

func TestParseSettings(t *testing.T) {
	s, err := parseSchema(json.RawMessage(webhookSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		inputs  map[string]string
		wantDoc map[string]any
		errs    map[string]string
	}{
		{"minimal", map[string]string{"s.url": "https://x"}, map[string]any{"url": "https://x", "verbose": false}, map[string]string{}},
		{"everything", map[string]string{"s.url": " http://x ", "s.secret": "longenough", "s.timeout_seconds": "30", "s.events": "failures", "s.verbose": "true"},
			map[string]any{"url": "http://x", "secret": "longenough", "timeout_seconds": int64(30), "events": "failures", "verbose": true}, map[string]string{}},
		{"required missing", map[string]string{}, map[string]any{"verbose": false}, map[string]string{"url": "is required"}},
		{"bad values", map[string]string{"s.url": "ftp://x", "s.secret": "short", "s.timeout_seconds": "1.5", "s.events": "some"},
			map[string]any{"verbose": false}, map[string]string{"url": "does not have the expected format",
				"secret": "must be at least 8 characters", "timeout_seconds": "must be a whole number", "events": "must be one of the listed values"}},
		{"bounds", map[string]string{"s.url": "https://x", "s.timeout_seconds": "0"}, map[string]any{"url": "https://x", "verbose": false},
			map[string]string{"timeout_seconds": "must be at least 1"}},
		{"not a number", map[string]string{"s.url": "https://x", "s.timeout_seconds": "NaN"}, map[string]any{"url": "https://x", "verbose": false},
			map[string]string{"timeout_seconds": "must be a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _, errs := parseSettings(s, func(k string) string { return tt.inputs[k] })
			if !reflect.DeepEqual(doc, tt.wantDoc) {
				t.Errorf("doc %#v, want %#v", doc, tt.wantDoc)
			}
			if !reflect.DeepEqual(errs, tt.errs) {
				t.Errorf("errs %v, want %v", errs, tt.errs)
			}
		})
	}
}

func TestPluginFieldErrors(t *testing.T) {
	ce := sdk.NewConfigError("url", "must use https")
	ce.Add("url", "must not be empty").Add("timeout_seconds", "too long")
	tests := []struct {
		name string
		err  error
		want map[string]string
	}{
		{"none", nil, nil},
		{"config error", fmt.Errorf("configure: %w", ce), map[string]string{"url": "must use https; must not be empty", "timeout_seconds": "too long"}},
		{"other error", errors.New("plugin crashed"), map[string]string{"": "plugin crashed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pluginFieldErrors(tt.err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, time.Second},
		{800 * time.Millisecond, time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{4200 * time.Millisecond, 5 * time.Second},
		{7 * time.Second, 10 * time.Second},
		{10 * time.Second, 10 * time.Second},
		{95 * time.Second, 100 * time.Second},
		{130 * time.Second, 200 * time.Second},
		{41 * time.Minute, 5000 * time.Second},
	}
	for _, tt := range tests {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDurationChart(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	dep := func(status string, d time.Duration) store.Deployment {
		end := start.Add(d)
		return store.Deployment{ID: uuid.Must(uuid.NewV7()), Status: status, StartedAt: &start, FinishedAt: &end}
	}
	running := store.Deployment{ID: uuid.Must(uuid.NewV7()), Status: store.DeploymentRunning, StartedAt: &start}
	tests := []struct {
		name    string
		deps    []store.Deployment // newest first
		bars    int
		heights []float64 // oldest first
		classes []string
		ticks   []string
	}{
		{"nothing finished", []store.Deployment{running}, 0, nil, nil, nil},
		{"three", []store.Deployment{running, dep("failed", 2500*time.Millisecond), dep("succeeded", 5*time.Second), dep("succeeded", 10*time.Millisecond)},
			3, []float64{1, 120, 60}, []string{"s-succeeded", "s-succeeded", "s-failed"}, []string{"0 ms", "2.5 s", "5.0 s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := durationChart(tt.deps)
			if len(c.Bars) != tt.bars {
				t.Fatalf("%d bars, want %d", len(c.Bars), tt.bars)
			}
			for i, b := range c.Bars {
				if b.H != tt.heights[i] || b.Class != tt.classes[i] || b.Y+b.H != c.Bottom {
					t.Errorf("bar %d = %+v, want height %v class %s on the baseline", i, b, tt.heights[i], tt.classes[i])
				}
				if i > 0 && b.X <= c.Bars[i-1].X {
					t.Errorf("bars not left to right")
				}
				if b.X < c.Left || b.X+b.W > c.Right {
					t.Errorf("bar %d outside the plot", i)
				}
			}
			var ticks []string
			for _, tk := range c.Ticks {
				ticks = append(ticks, tk.Label)
			}
			if !reflect.DeepEqual(ticks, tt.ticks) {
				t.Errorf("ticks %v, want %v", ticks, tt.ticks)
			}
		})
	}
	many := make([]store.Deployment, 30)
	for i := range many {
		many[i] = dep("succeeded", time.Second)
	}
	if n := len(durationChart(many).Bars); n != maxBars {
		t.Errorf("%d bars for 30 deployments, want %d", n, maxBars)
	}
}

func TestAppState(t *testing.T) {
	tests := []struct {
		status string
		want   string
	}{
		{store.DeploymentQueued, stateDeploying},
		{store.DeploymentRunning, stateDeploying},
		{store.DeploymentSucceeded, stateRunning},
		{store.DeploymentFailed, stateFailed},
		{store.DeploymentCancelled, stateCancelled},
		{"weird", stateNone},
	}
	for _, tt := range tests {
		if got := appState(&store.Deployment{Status: tt.status}); got != tt.want {
			t.Errorf("appState(%s) = %s, want %s", tt.status, got, tt.want)
		}
	}
	if appState(nil) != stateNone || statusText(stateNone) != "not deployed" {
		t.Error("an application never deployed")
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/apps/1?tab=x", "/apps/1?tab=x"},
		{"//evil.example.com/x", "/"},
		{"/\\evil.example.com", "/"},
		{"https://evil.example.com", "/"},
		{"/login?next=/x", "/"},
		{"/keys\r\nSet-Cookie: x=y", "/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.in); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"host", "host"}, {"pathPrefix", "path_prefix"}, {"redirectToHTTPS", "https"}, {"tls", "https"},
	}
	for _, tt := range tests {
		if got := service.DomainField(tt.in); got != tt.want {
			t.Errorf("DomainField(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{850 * time.Millisecond, "850 ms"}, {12400 * time.Millisecond, "12.4 s"}, {185 * time.Second, "3 min 5 s"}, {2*time.Hour + 7*time.Minute, "2 h 7 min"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.in); got != tt.want {
			t.Errorf("formatDuration(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
