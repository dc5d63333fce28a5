package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func configFor(t testing.TB, hosts ...string) []byte {
	t.Helper()
	var routes []Route
	for i, h := range hosts {
		routes = append(routes, web(fmt.Sprintf("r%d", i), h))
	}
	res := Generate(Snapshot{Routes: routes})
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	return encode(t, res.Config)
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v, want only %s", names, DefaultDynamicFile)
	}
}

func TestPublisher(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := NewPublisher(dir, "")
	first, second := configFor(t, "a.example.com"), configFor(t, "a.example.com", "b.example.com")

	changed, err := p.Publish(ctx, first)
	if err != nil || !changed {
		t.Fatalf("first publish: changed=%v err=%v", changed, err)
	}
	before, err := os.Stat(p.Path())
	if err != nil {
		t.Fatal(err)
	}

	t.Run("unchanged content is not rewritten", func(t *testing.T) {
		changed, err := p.Publish(ctx, bytes.Clone(first))
		if err != nil || changed {
			t.Fatalf("changed=%v err=%v", changed, err)
		}
		after, _ := os.Stat(p.Path())
		if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) {
			t.Error("file was rewritten")
		}
	})

	t.Run("new content replaces the file by rename", func(t *testing.T) {
		changed, err := p.Publish(ctx, second)
		if err != nil || !changed {
			t.Fatalf("changed=%v err=%v", changed, err)
		}
		after, _ := os.Stat(p.Path())
		if os.SameFile(before, after) {
			t.Error("file was written in place, not replaced by rename")
		}
		if got, _ := os.ReadFile(p.Path()); !bytes.Equal(got, second) {
			t.Errorf("content = %s", got)
		}
		assertNoTempFiles(t, dir)
	})

	invalid := map[string]string{
		"unknown field":      "http:\n  routers:\n    x:\n      rule: Host(`a`)\n      bogus: 1\n",
		"not yaml":           "http: [\n",
		"wrong type":         "http:\n  routers:\n    x:\n      priority: high\n",
		"unknown middleware": "http:\n  middlewares:\n    x:\n      bogus:\n        a: b\n",
		"template action":    "http:\n  routers:\n    x:\n      rule: Host(`{{ .Host }}`)\n",
	}
	for name, content := range invalid {
		t.Run("refuses "+name, func(t *testing.T) {
			changed, err := p.Publish(ctx, []byte(content))
			if !errors.Is(err, ErrRefused) || changed {
				t.Fatalf("changed=%v err=%v, want ErrRefused", changed, err)
			}
			if got, _ := os.ReadFile(p.Path()); !bytes.Equal(got, second) {
				t.Error("last good file was not kept")
			}
			assertNoTempFiles(t, dir)
		})
	}

	t.Run("PublishConfig checks the encoding with paerser", func(t *testing.T) {
		// An empty TLS section encodes to {"tls":{}}, which paerser rejects.
		changed, err := p.PublishConfig(ctx, &Config{TLS: &TLSConfig{}})
		if !errors.Is(err, ErrRefused) || changed {
			t.Fatalf("changed=%v err=%v, want ErrRefused", changed, err)
		}
		if !strings.Contains(err.Error(), "tls") {
			t.Errorf("error %q does not say what paerser rejected", err)
		}
		if got, _ := os.ReadFile(p.Path()); !bytes.Equal(got, second) {
			t.Error("last good file was not kept")
		}
		assertNoTempFiles(t, dir)
	})

	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := p.Publish(cctx, first); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestPublisherAtomicUnderConcurrency has writers race while a reader keeps
// reading: every read must be one complete published version.
func TestPublisherAtomicUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := NewPublisher(dir, "")
	versions := map[string]bool{}
	var contents [][]byte
	for i := range 8 {
		var hosts []string
		for j := range 50 * (i + 1) {
			hosts = append(hosts, fmt.Sprintf("h%d-%d.example.com", i, j))
		}
		c := configFor(t, hosts...)
		contents = append(contents, c)
		versions[string(c)] = true
	}
	if _, err := p.Publish(ctx, contents[0]); err != nil {
		t.Fatal(err)
	}

	var stop atomic.Bool
	var reads atomic.Int64
	readerDone := make(chan error)
	go func() {
		for !stop.Load() {
			got, err := os.ReadFile(filepath.Join(dir, DefaultDynamicFile))
			if err != nil {
				readerDone <- err
				return
			}
			if !versions[string(got)] {
				readerDone <- fmt.Errorf("read a partial file of %d bytes", len(got))
				return
			}
			reads.Add(1)
		}
		readerDone <- nil
	}()

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := p.Publish(ctx, contents[(w+i)%len(contents)]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	if err := <-readerDone; err != nil {
		t.Fatal(err)
	}
	if reads.Load() == 0 {
		t.Fatal("reader never read")
	}
	assertNoTempFiles(t, dir)
}
