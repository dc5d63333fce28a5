package repoaddr

import (
	"errors"
	"net/url"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

// ownerRepo is the host shape of GitHub and Gitea: owner/repo.
func ownerRepo(web *url.URL) Host { return Host{Web: web, MinSegments: 2, MaxSegments: 2} }

func TestOwnerRepo(t *testing.T) {
	github, _ := url.Parse("https://github.com")
	gitea, _ := url.Parse("https://git.example.com/gitea")
	tests := []struct {
		repo string
		web  *url.URL
		want Address
	}{
		{"octo-org/hello-world", github, Address{"octo-org", "hello-world", "octo-org/hello-world", "https://github.com/octo-org/hello-world.git", false}},
		{"octo-org/hello-world.git", github, Address{"octo-org", "hello-world", "octo-org/hello-world", "https://github.com/octo-org/hello-world.git", false}},
		{"https://github.com/octo-org/hello-world", github, Address{"octo-org", "hello-world", "octo-org/hello-world", "https://github.com/octo-org/hello-world.git", false}},
		{"https://x@GitHub.com/octo-org/hello-world.git/", github, Address{"octo-org", "hello-world", "octo-org/hello-world", "https://github.com/octo-org/hello-world.git", false}},
		{"git@github.com:octo-org/hello-world.git", github, Address{"octo-org", "hello-world", "octo-org/hello-world", "git@github.com:octo-org/hello-world.git", true}},
		{"ssh://git@github.com/octo-org/hello-world.git", github, Address{"octo-org", "hello-world", "octo-org/hello-world", "ssh://git@github.com/octo-org/hello-world.git", true}},
		{"team/app", gitea, Address{"team", "app", "team/app", "https://git.example.com/gitea/team/app.git", false}},
		{"https://git.example.com/gitea/team/app.git", gitea, Address{"team", "app", "team/app", "https://git.example.com/gitea/team/app.git", false}},
	}
	for _, tt := range tests {
		got, err := ownerRepo(tt.web).Parse(tt.repo)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.repo, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "hello-world", "a/b/c", "../etc", "a/..", "-o/x", "--upload-pack=x", "/srv/git/app.git", "file:///srv/git/app.git",
		"https://gitlab.com/octo-org/hello-world.git", "http://github.com/octo-org/hello-world.git", "https://github.com.evil.example/o/r",
		"git@gitlab.com:o/r.git", "ssh://git@evil.example/o/r.git", "ext::sh -c touch% /tmp/pwned", "o/r?x=1", "https://github.com/o/r?x=1",
		"o/\nr", "o r/x", "https://github.com/o", "https://x:secret@github.com/octo-org/hello-world.git",
		"https://github.com/octo-org/hello-world/tree/main", "https://github.com/api/v1/../o/r",
	} {
		if got, err := ownerRepo(github).Parse(bad); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Parse(%q) = %+v, %v; want sdk.ErrInvalidArgument", bad, got, err)
		}
	}
	if _, err := ownerRepo(gitea).Parse("https://git.example.com/other/team/app.git"); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("a URL outside the web root's path: %v, want sdk.ErrInvalidArgument", err)
	}
}
