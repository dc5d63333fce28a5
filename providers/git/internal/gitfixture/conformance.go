package gitfixture

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// Conformance runs sdk/plugintest's git provider suite against provider in
// process, then against the plugin binary built from the package in dir
// (whose Info must name the same id and version), each with a fresh suite.
func Conformance(t *testing.T, provider sdk.GitProvider, dir string, suite func(t *testing.T) plugintest.GitProviderSuite) {
	t.Run("in-process", func(t *testing.T) {
		plugintest.TestGitProvider(t, plugintest.GitProvider(t, provider), suite(t))
	})
	t.Run("subprocess", func(t *testing.T) {
		want, err := provider.Info(t.Context(), &sdk.InfoRequest{})
		if err != nil {
			t.Fatal(err)
		}
		g := plugintest.Launch(t, plugintest.BuildPlugin(t, dir)).(sdk.GitProvider)
		info, err := g.Info(t.Context(), &sdk.InfoRequest{})
		if err != nil || info.ID != want.ID || info.Version != want.Version {
			t.Fatalf("Info = %+v, %v; want %s %s", info, err, want.ID, want.Version)
		}
		plugintest.TestGitProvider(t, g, suite(t))
	})
}

// CheckDescribe fails the test unless provider describes itself as the git
// plugin id ("git.<name>") at version, with the capabilities of a hosted
// provider: listing repositories, webhooks and commit statuses.
func CheckDescribe(t *testing.T, provider sdk.Plugin, id, version string) {
	t.Helper()
	d, err := sdk.Describe(t.Context(), provider)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := strings.CutPrefix(id, "git.")
	if d.ID != id || d.Kind != sdk.KindGit || d.Name != name || d.Version != version {
		t.Errorf("Describe = %s %s (%s, %s), want %s %s", d.ID, d.Version, d.Kind, d.Name, id, version)
	}
	want := []sdk.Capability{sdk.CapCommitStatus, sdk.CapListRepositories, sdk.CapWebhooks}
	got := slices.Clone(d.Capabilities)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("capabilities %v, want %v", d.Capabilities, want)
	}
}

// CheckTimeout fails the test unless provider, configured with
// timeout_seconds 1, gives up on a host that never answers: call makes one
// request to the host whose root URL is root, and must fail within 5
// seconds with an error wrapping sdk.ErrUnavailable and
// context.DeadlineExceeded.
func CheckTimeout(t *testing.T, provider sdk.GitProvider, call func(ctx context.Context, root string) error) {
	t.Helper()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	if _, err := provider.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(`{"timeout_seconds": 1}`)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := call(t.Context(), slow.URL)
	if !errors.Is(err, sdk.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a request to a host that does not answer: %v, want a timeout wrapping sdk.ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the request took %s despite a 1s timeout", d)
	}
}

// CheckBranches fails the test unless a ListBranches answer holds count
// branches, sorted by name, and exactly one default: wantDefault.
func CheckBranches(t *testing.T, branches []sdk.Branch, count int, wantDefault sdk.Branch) {
	t.Helper()
	if len(branches) != count {
		t.Fatalf("ListBranches returned %d branches, want %d", len(branches), count)
	}
	var defaults []sdk.Branch
	for i, b := range branches {
		if i > 0 && branches[i-1].Name >= b.Name {
			t.Errorf("branches not sorted: %s before %s", branches[i-1].Name, b.Name)
		}
		if b.Default {
			defaults = append(defaults, b)
		}
	}
	if len(defaults) != 1 || defaults[0] != wantDefault {
		t.Errorf("default branches %+v, want %+v only", defaults, wantDefault)
	}
}
