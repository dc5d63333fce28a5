package generic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestListRepositories(t *testing.T) {
	p := New()
	settings := `{"repositories": ["https://git.example.com/team/web.git", "git@git.example.com:team/api.git", "/srv/git/tools.git"]}`
	if _, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(settings)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query, token string
		size         int
		want         []string
		next         string
	}{
		{"", "", 0, []string{"srv/git/tools", "team/api", "team/web"}, ""},
		{"team", "", 0, []string{"team/api", "team/web"}, ""},
		{"", "", 2, []string{"srv/git/tools", "team/api"}, "2"},
		{"", "2", 2, []string{"team/web"}, ""},
	}
	for _, tt := range tests {
		r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Query: tt.query, PageToken: tt.token, PageSize: tt.size})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, repo := range r.Repositories {
			names = append(names, repo.FullName)
		}
		if fmt.Sprint(names) != fmt.Sprint(tt.want) || r.NextPageToken != tt.next {
			t.Errorf("ListRepositories(%q, %q, %d) = %v next %q, want %v next %q", tt.query, tt.token, tt.size, names, r.NextPageToken, tt.want, tt.next)
		}
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		settings  string
		wantField string
	}{
		{`{}`, ""},
		{`{"allow_local": false, "submodules": false, "ssh_known_hosts": "# comment\ngithub.com ssh-ed25519 AAAA"}`, ""},
		{`{"allow_local": "yes"}`, "allow_local"},
		{`{"unknown": 1}`, "unknown"},
		{`{"ssh_known_hosts": "github.com"}`, "ssh_known_hosts"},
		{`{"repositories": ["https://h/x.git", "-oops"]}`, "repositories[1]"},
		{`{"repositories": ["https://me:pw@h/x.git"]}`, "repositories[0]"},
		{`{"allow_local": false, "repositories": ["/srv/x.git"]}`, "repositories[0]"},
	}
	for _, tt := range tests {
		_, err := New().Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(tt.settings)})
		var cfg *sdk.ConfigError
		switch {
		case tt.wantField == "" && err != nil:
			t.Errorf("Configure(%s) = %v", tt.settings, err)
		case tt.wantField != "" && (!errors.As(err, &cfg) || cfg.Fields[0].Field != tt.wantField):
			t.Errorf("Configure(%s) = %v, want a field error on %s", tt.settings, err, tt.wantField)
		}
	}
}

// TestSettingsReachTheClient checks the settings in force are the git
// client's options: with allow_local off a local repository is refused
// before git runs.
func TestSettingsReachTheClient(t *testing.T) {
	p := New()
	local := t.TempDir()
	for _, settings := range []string{`{}`, `{"allow_local": false}`} {
		if _, err := p.Configure(t.Context(), &sdk.ConfigureRequest{Settings: json.RawMessage(settings)}); err != nil {
			t.Fatal(err)
		}
		_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: local})
		refused := errors.Is(err, sdk.ErrInvalidArgument) && strings.Contains(err.Error(), "allow_local")
		if want := settings != `{}`; refused != want {
			t.Errorf("settings %s: ListBranches(%s) = %v, want refused by allow_local: %v", settings, local, err, want)
		}
		if _, err := p.Fetch(t.Context(), &sdk.FetchRequest{Repository: local, Dir: t.TempDir()}); (errors.Is(err, sdk.ErrInvalidArgument) && strings.Contains(err.Error(), "allow_local")) != (settings != `{}`) {
			t.Errorf("settings %s: Fetch(%s) = %v", settings, local, err)
		}
	}
}
