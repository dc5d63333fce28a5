// Package browser_test drives berth's web dashboard in headless Chromium
// (Debian's chromium package) with chromedp, against a whole `berth server`
// with Docker Swarm, Traefik and the plugins, and saves screenshots of the
// main pages under test-artifacts/screenshots/.
package browser_test

import (
	"os"
	"testing"

	"github.com/berth-dev/berth/test/berthtest"
)

// bins are berth, the test backend and the plugins, built once by TestMain
// into their own directory.
var bins *berthtest.Binaries

func TestMain(m *testing.M) {
	os.Exit(berthtest.Main(m, berthtest.BuildOptions{Plugins: true}, &bins))
}
