package plugins_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestShippedPluginsImportNoOtherPlugin checks the layout of berth's own
// plugins: a plugin's packages import the sdk, their own plugin's packages,
// the shared internal packages (builders/internal/..., providers/.../
// internal/...) and plugins/settingsschema, never another plugin's package
// or berth's core, so what plugins share lives in a package of its own.
// Tests may also use berth's test harnesses (test/...).
func TestShippedPluginsImportNoOtherPlugin(t *testing.T) {
	const mod = "github.com/berth-dev/berth/"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}} | {{join .TestImports " "}} {{join .XTestImports " "}}`, "./builders/...", "./providers/...")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		own := pluginRoot(pkg)
		checked++
		inTests := false
		for _, imp := range fields[1:] {
			if imp == "|" {
				inTests = true
				continue
			}
			dep, ok := strings.CutPrefix(imp, mod)
			if !ok || dep == "sdk" || strings.HasPrefix(dep, "sdk/") || dep == "plugins/settingsschema" || (inTests && strings.HasPrefix(dep, "test/")) {
				continue
			}
			shared := strings.Contains(dep, "/internal/") && (strings.HasPrefix(dep, "builders/") || strings.HasPrefix(dep, "providers/"))
			if shared || (own != "" && (dep == own || strings.HasPrefix(dep, own+"/"))) {
				continue
			}
			t.Errorf("%s imports %s: plugins share code through internal packages of its own, and never import berth's core", pkg, dep)
		}
	}
	if checked < 20 {
		t.Fatalf("go list listed only %d packages:\n%s", checked, out)
	}
}

// pluginRoot is the directory of the plugin a package belongs to
// (builders/static, providers/git/github), "" for a shared internal one.
func pluginRoot(pkg string) string {
	parts := strings.Split(pkg, "/")
	n := 2 // builders/NAME
	if parts[0] == "providers" {
		n = 3 // providers/KIND/NAME
	}
	if len(parts) < n {
		return ""
	}
	for _, p := range parts[:n] {
		if p == "internal" {
			return ""
		}
	}
	return strings.Join(parts[:n], "/")
}
