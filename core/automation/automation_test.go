package automation

import "testing"

func TestPathsMatch(t *testing.T) {
	tests := []struct {
		patterns []string
		path     string
		want     bool
	}{
		{[]string{"services/api/**"}, "services/api/main.go", true},
		{[]string{"services/api/**"}, "services/api/internal/x/y.go", true},
		{[]string{"services/api/**"}, "services/web/main.go", false},
		{[]string{"*.md"}, "docs/guide/intro.md", true},
		{[]string{"/*.md"}, "docs/intro.md", false},
		{[]string{"/*.md"}, "README.md", true},
		{[]string{"api/"}, "api/main.go", true},
		{[]string{"api/"}, "xapi/main.go", false},
		{[]string{"Dockerfile"}, "deploy/Dockerfile", true},
		{[]string{"src/*.go"}, "src/a/b.go", false},
		{[]string{"**/testdata/**"}, "pkg/x/testdata/f.json", true},
		{[]string{"src/**", "!src/**/*_test.go"}, "src/a_test.go", false},
		{[]string{"src/**", "!src/**/*_test.go"}, "src/a.go", true},
		{[]string{"file?.txt"}, "file1.txt", true},
		{[]string{"[ab].txt"}, "c.txt", false},
	}
	for _, tt := range tests {
		if got := PathsMatch(tt.patterns, []string{tt.path}); got != tt.want {
			t.Errorf("PathsMatch(%q, %q) = %v, want %v", tt.patterns, tt.path, got, tt.want)
		}
	}
}

func TestHostPattern(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{"pr-{number}.{app}.preview.example.com", true},
		{"{branch}-{number}.example.com", true},
		{"pr.example.com", false},
		{"pr-{number}.{owner}.example.com", false},
		{"pr_{number}.example.com", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := ValidateHostPattern(tt.pattern); (err == nil) != tt.ok {
			t.Errorf("ValidateHostPattern(%q) = %v, want ok %v", tt.pattern, err, tt.ok)
		}
	}
	h, err := RenderHost("pr-{number}-{branch}.{app}.example.com", 42, "Shop", "Feature/Login_Page")
	if err != nil || h != "pr-42-feature-login-page.shop.example.com" {
		t.Fatalf("RenderHost = %q, %v", h, err)
	}
}
