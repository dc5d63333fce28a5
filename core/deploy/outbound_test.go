package deploy

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/store"
)

// reboundResolver answers as a name re-pointed at the host would.
type reboundResolver map[string]string

func (r reboundResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := r[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestRecheckBeforeFetch: a deployment re-resolves the connection's base
// URL and the repository host before the plugin is sent to them.
func TestRecheckBeforeFetch(t *testing.T) {
	guard := netguard.New(netguard.Options{
		Resolver:   reboundResolver{"git.example.com": "93.184.216.34", "rebound.example.com": "169.254.169.254"},
		Interfaces: func() ([]netguard.Interface, error) { return nil, nil },
	})
	p := &Pipeline{guard: guard}
	app := func(repo string) store.Application {
		return store.Application{SourceType: "git", GitRepository: repo}
	}
	conn := func(base string) *store.GitConnection { return &store.GitConnection{Name: "c", BaseURL: base} }
	tests := []struct {
		name    string
		app     store.Application
		conn    *store.GitConnection
		blocked bool
	}{
		{"public repository", app("https://git.example.com/a/b.git"), nil, false},
		{"rebound repository", app("git@rebound.example.com:a/b.git"), nil, true},
		{"literal saved by an administrator", app("http://127.0.0.1:3000/a/b.git"), nil, false},
		{"rebound connection", app("a/b"), conn("https://rebound.example.com/api"), true},
		{"public connection", app("a/b"), conn("https://git.example.com/api"), false},
		{"image source", store.Application{SourceType: "image", GitRepository: "https://rebound.example.com/x"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.recheck(context.Background(), tt.app, tt.conn)
			var be *netguard.BlockedError
			if errors.As(err, &be) != tt.blocked || (err != nil && !tt.blocked) {
				t.Fatalf("recheck = %v, want blocked %v", err, tt.blocked)
			}
		})
	}
	if err := (&Pipeline{}).recheck(context.Background(), app("git@rebound.example.com:a/b.git"), nil); err != nil {
		t.Fatalf("no guard: %v", err)
	}
}
