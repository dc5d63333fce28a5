package repoaddr

import (
	"errors"
	"net/url"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestParse(t *testing.T) {
	gitlab := Host{Web: &url.URL{Scheme: "https", Host: "git.example.com", Path: "/gitlab"}, MinSegments: 2, WebSeparator: "/-/"}
	bitbucket := Host{Web: &url.URL{Scheme: "https", Host: "bitbucket.org"}, MinSegments: 2, MaxSegments: 2, PagePaths: true}
	for _, c := range []struct {
		host Host
		raw  string
		want Address
	}{
		{gitlab, "group/app", Address{FullName: "group/app", CloneURL: "https://git.example.com/gitlab/group/app.git"}},
		{gitlab, "group/sub/app.git", Address{FullName: "group/sub/app", CloneURL: "https://git.example.com/gitlab/group/sub/app.git"}},
		{gitlab, "https://git.example.com/gitlab/group/sub/app.git", Address{FullName: "group/sub/app", CloneURL: "https://git.example.com/gitlab/group/sub/app.git"}},
		{gitlab, "https://git.example.com/gitlab/group/app/-/merge_requests/3", Address{FullName: "group/app", CloneURL: "https://git.example.com/gitlab/group/app.git"}},
		{gitlab, "https://oauth2@git.example.com/gitlab/group/app", Address{FullName: "group/app", CloneURL: "https://git.example.com/gitlab/group/app.git"}},
		{gitlab, "git@git.example.com:group/app.git", Address{FullName: "group/app", CloneURL: "git@git.example.com:group/app.git", SSH: true}},
		{gitlab, "ssh://git@git.example.com:2222/group/app.git", Address{FullName: "group/app", CloneURL: "ssh://git@git.example.com:2222/group/app.git", SSH: true}},
		{bitbucket, "ws/app", Address{FullName: "ws/app", CloneURL: "https://bitbucket.org/ws/app.git"}},
		{bitbucket, "https://bitbucket.org/ws/app/src/main/README.md", Address{FullName: "ws/app", CloneURL: "https://bitbucket.org/ws/app.git"}},
		{bitbucket, "git@bitbucket.org:ws/app.git", Address{FullName: "ws/app", CloneURL: "git@bitbucket.org:ws/app.git", SSH: true}},
	} {
		got, err := c.host.Parse(c.raw)
		if err != nil || got.FullName != c.want.FullName || got.CloneURL != c.want.CloneURL || got.SSH != c.want.SSH {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.raw, got, err, c.want)
		}
	}
	for _, c := range []struct {
		host Host
		raw  string
	}{
		{gitlab, ""},
		{gitlab, "app"},
		{gitlab, "/srv/git/group/app.git"},
		{gitlab, "group/../app"},
		{gitlab, "group/-app"},
		{gitlab, "group/app name"},
		{gitlab, "group/app\n"},
		{gitlab, "http://git.example.com/gitlab/group/app.git"},
		{gitlab, "https://git.example.com/group/app.git"},
		{gitlab, "https://evil.com/gitlab/group/app.git"},
		{gitlab, "https://oauth2:token@git.example.com/gitlab/group/app.git"},
		{gitlab, "git@evil.com:group/app.git"},
		{gitlab, "ssh://git@evil.com/group/app.git"},
		{gitlab, "file:///srv/git/group/app.git"},
		{gitlab, "ext::sh -c touch% /tmp/pwned"},
		{bitbucket, "ws/app/extra"},
		{bitbucket, "ws"},
		{bitbucket, "https://bitbucket.org/ws"},
		{bitbucket, "https://bitbucket.org/ws/app?at=main"},
		{bitbucket, "-ws/app"},
		{bitbucket, "https://bitbucket.org/ws/app/../../other/x"},
	} {
		if got, err := c.host.Parse(c.raw); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Parse(%q) = %+v, %v; want sdk.ErrInvalidArgument", c.raw, got, err)
		}
	}
}
