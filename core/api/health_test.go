package api_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/api"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestHealthzHidesDatabaseErrors(t *testing.T) {
	var logs lockedBuffer
	h := newHarness(t, func(o *api.Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	r := h.must(200, h.do("GET", "/healthz", "", nil))
	var ok api.Health
	r.json(t, &ok)
	if ok.Status != "ok" || ok.Database != "ok" {
		t.Fatalf("healthy answer %+v", ok)
	}
	h.store.Close() // every query now fails with pgx's "closed pool"
	r = h.must(503, h.do("GET", "/healthz", "", nil))
	var bad api.Health
	r.json(t, &bad)
	if bad.Status != "degraded" || bad.Database != "database unavailable" {
		t.Fatalf("unhealthy answer %+v", bad)
	}
	if strings.Contains(string(r.Body), "closed") {
		t.Fatalf("the raw error leaked: %s", r.Body)
	}
	if !strings.Contains(logs.String(), "closed pool") {
		t.Fatalf("the detail was not logged:\n%s", logs.String())
	}
}
