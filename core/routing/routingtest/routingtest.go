// Package routingtest runs berth's routing in tests as core/app wires it:
// the change feed (core/changefeed) kicks a routing.Syncer that publishes
// Traefik's dynamic configuration to a temporary directory, so a test can
// change state through any front door and wait for the configuration to
// follow.
package routingtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/changefeed"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/routing"
	"github.com/berth-dev/berth/core/store"
)

// Follower waits for the published configuration to satisfy a condition.
type Follower struct {
	t    testing.TB
	path string
}

// Start runs the change feed and a syncer on st until the test ends.
func Start(t testing.TB, st *store.Store) *Follower {
	t.Helper()
	dir := t.TempDir()
	// Registered after TempDir, so it runs first: the syncer stops
	// publishing before the directory is removed.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() { cancel(); <-stopped })
	pub := proxy.NewPublisher(dir, "berth.yaml")
	syncer := routing.NewSyncer(st, pub, filepath.Join(dir, "certs"), "/certs", nil)
	feed := changefeed.New(st.Pool(), nil)
	feed.Subscribe(func(changefeed.Change) { syncer.RoutesChanged() }, changefeed.Applications, changefeed.Domains)
	ready := make(chan struct{})
	go feed.Run(ctx, ready)
	<-ready
	go func() { defer close(stopped); syncer.Run(ctx) }()
	return &Follower{t: t, path: pub.Path()}
}

// Has waits until the configuration contains s; what names the change.
func (f *Follower) Has(what, s string) {
	f.t.Helper()
	f.wait(what, func(cfg string) bool { return strings.Contains(cfg, s) })
}

// Lacks waits until the configuration no longer contains s.
func (f *Follower) Lacks(what, s string) {
	f.t.Helper()
	f.wait(what, func(cfg string) bool { return !strings.Contains(cfg, s) })
}

func (f *Follower) wait(what string, ok func(string) bool) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		data, _ := os.ReadFile(f.path)
		if ok(string(data)) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("%s: Traefik's configuration did not follow:\n%.2000s", what, data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
