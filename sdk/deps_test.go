package sdk_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNothingFromBerth proves that the SDK, its tests and examples
// included, depends on no berth package outside sdk/ (core/, plugins/...):
// third parties build plugins against this module alone.
func TestImportsNothingFromBerth(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const berth, sdk = "github.com/berth-dev/berth/", "github.com/berth-dev/berth/sdk"
	var seen int
	for _, field := range strings.Fields(string(out)) {
		// Test variants are listed as "pkg [pkg.test]", "pkg_test", "pkg.test".
		pkg := strings.Trim(field, "[]")
		pkg = strings.TrimSuffix(strings.TrimSuffix(pkg, ".test"), "_test")
		seen++
		if strings.HasPrefix(pkg, berth) && pkg != sdk && !strings.HasPrefix(pkg, sdk+"/") {
			t.Errorf("the SDK depends on %s", field)
		}
	}
	if seen < 10 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", seen, out)
	}
}
