package browser_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/test/berthtest"
)

// startServer starts a berth server (see package berthtest) whose
// first-run setup the test does through the dashboard.
func startServer(t *testing.T) *berthtest.T {
	t.Helper()
	return berthtest.Run(t, bins, berthtest.Options{Prefix: "ui", NoSetup: true})
}

// newRepo creates a local repository standing in for the remote.
func newRepo(t *testing.T) *berthtest.Repo { return berthtest.NewRepo(t, bins) }

// commitApp commits the test backend with a Dockerfile answering
// "<message> <path>"; the build sleeps a few seconds so its log is seen
// streaming.
func commitApp(r *berthtest.Repo, message string) {
	dockerfile := strings.Join([]string{
		"FROM scratch",
		"COPY app /app",
		`RUN ["/app", "sleep", "3s"]`,
		"ENV MESSAGE=" + message,
		`HEALTHCHECK --interval=1s --timeout=2s --retries=2 CMD ["/app", "healthcheck"]`,
		`ENTRYPOINT ["/app"]`,
	}, "\n") + "\n"
	r.Commit(message, map[string]string{"app": "@backend", "Dockerfile": dockerfile})
}
