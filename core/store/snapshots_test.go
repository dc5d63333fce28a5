package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
)

// TestDeploymentSnapshot: a snapshot is sealed at rest (the raw column
// holds no plaintext), opens only on its own deployment's row, and a
// deployment without one says so rather than failing.
func TestDeploymentSnapshot(t *testing.T) {
	ctx := context.Background()
	st, app := newStore(t)
	d, err := st.CreateDeployment(ctx, app.ID, store.NewDeployment{Kind: store.KindDeploy})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.CreateDeployment(ctx, app.ID, store.NewDeployment{Kind: store.KindDeploy})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := st.DeploymentSnapshot(ctx, d.ID); ok || err != nil {
		t.Fatalf("before any snapshot: ok %v, err %v", ok, err)
	}
	const secret = "sk_live_snapshot_secret_value"
	plain := []byte(`{"env":{"STRIPE_KEY":"` + secret + `"}}`)
	if err := st.SetDeploymentSnapshot(ctx, d.ID, plain); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := st.Pool().QueryRow(ctx, `SELECT snapshot_enc FROM deployments WHERE id = $1`, d.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("STRIPE_KEY")) {
		t.Fatalf("the stored snapshot is not sealed: %q", raw)
	}
	got, ok, err := st.DeploymentSnapshot(ctx, d.ID)
	if err != nil || !ok || !bytes.Equal(got, plain) {
		t.Fatalf("snapshot = %q %v %v, want %q", got, ok, err, plain)
	}
	// A ciphertext copied to another deployment's row does not open there.
	if _, err := st.Pool().Exec(ctx, `UPDATE deployments SET snapshot_enc = $2 WHERE id = $1`, other.ID, raw); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DeploymentSnapshot(ctx, other.ID); err == nil {
		t.Fatal("a snapshot copied to another deployment opened")
	}
	if _, _, err := st.DeploymentSnapshot(ctx, uuid.New()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing deployment: %v, want ErrNotFound", err)
	}
	if err := st.SetDeploymentSnapshot(ctx, uuid.New(), plain); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("snapshot of a missing deployment: %v, want ErrNotFound", err)
	}
}
