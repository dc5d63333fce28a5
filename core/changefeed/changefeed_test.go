package changefeed_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/changefeed"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestParse(t *testing.T) {
	tests := []struct {
		payload string
		want    changefeed.Table
		op      string
		bad     bool
	}{
		{payload: "domains insert 0190f0a4-5c1e-7d2a-8a3b-4c5d6e7f8091", want: changefeed.Domains, op: "insert"},
		{payload: "applications delete 0190f0a4-5c1e-7d2a-8a3b-4c5d6e7f8091", want: changefeed.Applications, op: "delete"},
		{payload: "domains insert", bad: true},
		{payload: "domains insert not-a-uuid", bad: true},
	}
	for _, tt := range tests {
		c, err := changefeed.Parse(tt.payload)
		if (err != nil) != tt.bad {
			t.Fatalf("Parse(%q) error = %v, want error %v", tt.payload, err, tt.bad)
		}
		if !tt.bad && (c.Table != tt.want || c.Op != tt.op) {
			t.Fatalf("Parse(%q) = %+v", tt.payload, c)
		}
	}
}

// TestCommittedChangesOnly: a committed write is announced once with its
// table, operation and id; a rolled-back one never; a cascaded delete
// announces the children.
func TestCommittedChangesOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	box, err := secrets.New(bytes.Repeat([]byte{3}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	feed := changefeed.New(st.Pool(), nil)
	got := make(chan changefeed.Change, 64)
	feed.Subscribe(func(c changefeed.Change) { got <- c }, changefeed.Projects, changefeed.Environments)
	ready := make(chan struct{})
	go feed.Run(ctx, ready)
	<-ready
	if c := <-got; c.Table != changefeed.Resync {
		t.Fatalf("first change = %+v, want a resync", c)
	}

	_, org, err := st.Setup(ctx, store.SetupInput{Email: "feed@example.com", Name: "Feed", PasswordHash: "x", Organization: "feed"})
	if err != nil {
		t.Fatal(err)
	}
	errRollback := errors.New("roll back")
	if err := st.WithTx(ctx, func(tx *store.Tx) error {
		if _, _, err := tx.CreateProject(ctx, org.ID, "rolled-back", ""); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	p, env, err := st.CreateProject(ctx, org.ID, "kept", "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[changefeed.Change]bool{
		{Table: changefeed.Projects, Op: "insert", ID: p.ID}:       true,
		{Table: changefeed.Environments, Op: "insert", ID: env.ID}: true,
	}
	expect(t, got, want)

	if err := st.DeleteProject(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	expect(t, got, map[changefeed.Change]bool{
		{Table: changefeed.Projects, Op: "delete", ID: p.ID}:       true,
		{Table: changefeed.Environments, Op: "delete", ID: env.ID}: true,
	})
	select {
	case c := <-got:
		t.Fatalf("unexpected change %+v (the rolled-back project must never be announced)", c)
	case <-time.After(300 * time.Millisecond):
	}
}

func expect(t *testing.T, got <-chan changefeed.Change, want map[changefeed.Change]bool) {
	t.Helper()
	for len(want) > 0 {
		select {
		case c := <-got:
			if !want[c] {
				t.Fatalf("unexpected change %+v; still waiting for %v", c, want)
			}
			delete(want, c)
		case <-time.After(10 * time.Second):
			t.Fatalf("changes not announced: %v", want)
		}
	}
}
