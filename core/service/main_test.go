package service_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newStore opens a migrated store on a fresh database.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.New(bytes.Repeat([]byte{5}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pgtest.NewDatabase(t), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}
