package cnb

import (
	"strings"
	"testing"
)

func TestCheckEngine(t *testing.T) {
	tests := []struct {
		lifecycle, api string
		wantErr        string
	}{
		{"0.21.14", "1.41", ""},
		{"0.21.8", "1.41", ""},
		{"0.21.7", "1.41", "API 1.44"},
		{"0.21.0", "1.43", "API 1.44"},
		{"0.21.3", "1.44", ""},
		{"v0.21.5", "1.47", ""},
		{"0.20.5", "1.41", ""},
		{"0.17.0", "1.24", ""},
		{"0.22.0", "1.39", "API 1.40"},
		{"0.21.14", "1.40", ""},
		{"0.21.0-rc.1", "1.41", "API 1.44"},
		{"latest", "1.41", "not a version number"},
		{"0.21.14", "", "not a version number"},
	}
	for _, tt := range tests {
		err := CheckEngine(tt.lifecycle, tt.api)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("CheckEngine(%s, %s) = %v, want nil", tt.lifecycle, tt.api, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("CheckEngine(%s, %s) = %v, want an error with %q", tt.lifecycle, tt.api, err, tt.wantErr)
		}
	}
}

func TestChoosePlatformAPI(t *testing.T) {
	tests := []struct {
		lifecycle []string
		want      string
	}{
		{[]string{"0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15"}, "0.15"},
		{[]string{"0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14", "0.15", "0.16"}, "0.15"},
		{[]string{"0.3", "0.10", "0.11"}, "0.11"},
		{[]string{"0.3", "0.4", "0.9"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		got, err := ChoosePlatformAPI(tt.lifecycle)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("ChoosePlatformAPI(%v) = %q, %v; want %q", tt.lifecycle, got, err, tt.want)
		}
	}
}

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name, label string
		wantRun     string
		wantAPIs    string
		wantErr     bool
	}{
		{"current", `{"images":[{"image":"heroku/heroku:24"}],"lifecycle":{"version":"0.20.5","apis":{"platform":{"supported":["0.12","0.13"]}}}}`, "heroku/heroku:24", "0.12,0.13", false},
		{"stack run image, old api field", `{"stack":{"runImage":{"image":"run:1"}},"lifecycle":{"version":"0.9.0","api":{"platform":"0.4"}}}`, "run:1", "0.4", false},
		{"no lifecycle", `{"images":[]}`, "", "", true},
		{"not JSON", `{`, "", "", true},
		{"missing", ``, "", "", true},
	}
	for _, tt := range tests {
		labels := map[string]string{}
		if tt.label != "" {
			labels[MetadataLabel] = tt.label
		}
		m, err := ParseMetadata(labels)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: ParseMetadata = %v", tt.name, err)
			continue
		}
		if err == nil && (m.RunImage() != tt.wantRun || strings.Join(m.PlatformAPIs(), ",") != tt.wantAPIs) {
			t.Errorf("%s: run image %q, APIs %v", tt.name, m.RunImage(), m.PlatformAPIs())
		}
	}
}

func TestOrderTOML(t *testing.T) {
	m, err := ParseMetadata(map[string]string{MetadataLabel: `{"lifecycle":{"version":"0.21.14"},"buildpacks":[
		{"id":"heroku/nodejs","version":"3.0.0"},{"id":"heroku/procfile","version":"4.0.0"},
		{"id":"x/two","version":"1.0.0"},{"id":"x/two","version":"2.0.0"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		buildpacks []string
		want       string
		wantErr    string
	}{
		{[]string{"heroku/nodejs", "heroku/procfile@4.0.0"}, "[[order]]\n  [[order.group]]\n    id = \"heroku/nodejs\"\n    version = \"3.0.0\"\n  [[order.group]]\n    id = \"heroku/procfile\"\n    version = \"4.0.0\"\n", ""},
		{[]string{"x/two@2.0.0"}, "[[order]]\n  [[order.group]]\n    id = \"x/two\"\n    version = \"2.0.0\"\n", ""},
		{[]string{"x/two"}, "", "name one as x/two@VERSION"},
		{[]string{"heroku/nodejs@9"}, "", "not 9"},
		{[]string{"https://example.com/bp.tgz"}, "", "not in the builder image"},
	}
	for _, tt := range tests {
		got, err := orderTOML(m, tt.buildpacks)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("orderTOML(%v) = %v, want an error with %q", tt.buildpacks, err, tt.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("orderTOML(%v) = %q, %v\nwant %q", tt.buildpacks, got, err, tt.want)
		}
	}
}

func TestCacheVolumes(t *testing.T) {
	b1, l1 := CacheVolumes("berth/web-83642921:03b220fa13dd")
	b2, l2 := CacheVolumes("berth/web-83642921:66931b458fe6")
	b3, _ := CacheVolumes("berth/other:03b220fa13dd")
	if b1 != b2 || l1 != l2 || b1 == l1 || b1 == b3 {
		t.Errorf("volumes %s %s / %s %s / %s: want one pair per repository", b1, l1, b2, l2, b3)
	}
	if !strings.HasPrefix(b1, "berth-cnb-berth-web-83642921-") {
		t.Errorf("volume name %s", b1)
	}
}
