package deploylog

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

type memStore struct {
	mu    sync.Mutex
	lines map[uuid.UUID][]store.LogLine
}

func (m *memStore) AppendLogs(_ context.Context, id uuid.UUID, lines []store.LogLine) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines[id] = append(m.lines[id], lines...)
	return nil
}

func (m *memStore) MaxLogSeq(_ context.Context, id uuid.UUID) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := len(m.lines[id]); n > 0 {
		return m.lines[id][n-1].Seq, nil
	}
	return 0, nil
}

func TestWriterNumbersMasksStoresAndStreams(t *testing.T) {
	st := &memStore{lines: map[uuid.UUID][]store.LogLine{}}
	hub := NewHub(st, nil)
	id := uuid.New()
	sub, unsubscribe := hub.Subscribe(id)
	defer unsubscribe()

	w := hub.Writer(context.Background(), id, []string{"hunter22", "ab"})
	w.Line("build", "Step 1/2\nusing password hunter22\r\n")
	w.Info("done")
	w.Close()
	w.Line("build", "after close is dropped")

	var got []store.LogLine
	for l := range sub {
		got = append(got, l)
	}
	tests := []struct {
		seq          int
		stream, line string
	}{
		{1, "build", "Step 1/2"},
		{2, "build", "using password ********"},
		{3, "berth", "done"},
	}
	if len(got) != len(tests) {
		t.Fatalf("streamed %d lines: %+v", len(got), got)
	}
	for i, tt := range tests {
		if got[i].Seq != tt.seq || got[i].Stream != tt.stream || got[i].Line != tt.line {
			t.Errorf("line %d = %+v, want %+v", i, got[i], tt)
		}
	}
	if len(st.lines[id]) != 3 || strings.Contains(st.lines[id][1].Line, "hunter22") {
		t.Fatalf("stored lines = %+v", st.lines[id])
	}
	// A new writer continues the numbering.
	w2 := hub.Writer(context.Background(), id, nil)
	w2.Info("again")
	w2.Close()
	if last := st.lines[id][len(st.lines[id])-1]; last.Seq != 4 {
		t.Fatalf("continued seq = %d, want 4", last.Seq)
	}
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	hub := NewHub(&memStore{lines: map[uuid.UUID][]store.LogLine{}}, nil)
	id := uuid.New()
	sub, unsubscribe := hub.Subscribe(id)
	defer unsubscribe()
	w := hub.Writer(context.Background(), id, nil)
	for i := 0; i < 1100; i++ { // nobody reads: the buffer (1024) overflows
		w.Info("x")
	}
	n := 0
	for range sub {
		n++
	}
	if n != 1024 {
		t.Fatalf("received %d lines before being dropped, want 1024", n)
	}
	w.Close()
}
