package hostconn

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/providers/git/internal/repoaddr"
	"github.com/berth-dev/berth/sdk"
)

func TestOpen(t *testing.T) {
	web, _ := url.Parse("https://git.example.com")
	connect := func(creds *sdk.Credentials) (*Conn, error) {
		if creds == nil {
			return nil, sdk.ErrUnauthenticated
		}
		return &Conn{Host: repoaddr.Host{Web: web, MinSegments: 2, MaxSegments: 2}}, nil
	}
	conn, addr, err := Open(connect, &sdk.Credentials{}, "team/app", "test: fetch")
	if err != nil || conn == nil || addr.FullName != "team/app" || addr.CloneURL != "https://git.example.com/team/app.git" {
		t.Errorf("Open = %v, %+v, %v", conn, addr, err)
	}
	if _, _, err := Open(connect, nil, "team/app", "test: fetch"); !errors.Is(err, sdk.ErrUnauthenticated) || !strings.HasPrefix(err.Error(), "test: fetch: ") {
		t.Errorf("Open without a connection = %v, want the connect error, named", err)
	}
	if _, _, err := Open(connect, &sdk.Credentials{}, "https://evil.example.com/team/app", "test: fetch"); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Open of another host's repository = %v, want sdk.ErrInvalidArgument", err)
	}
}
