package backup

import (
	"context"
	"errors"
	"testing"

	"github.com/berth-dev/berth/core/store"
)

type openedTargets struct{ opened int }

func (o *openedTargets) Target(context.Context, store.BackupDestination) (Target, error) {
	o.opened++
	return nil, nil
}

// TestCheckedTargets: a destination the check refuses is never opened.
func TestCheckedTargets(t *testing.T) {
	refused := errors.New("refused")
	inner := &openedTargets{}
	ct := CheckedTargets{Targets: inner, Check: func(_ context.Context, d store.BackupDestination) error {
		if d.Name == "internal" {
			return refused
		}
		return nil
	}}
	if _, err := ct.Target(context.Background(), store.BackupDestination{Name: "internal"}); !errors.Is(err, refused) || inner.opened != 0 {
		t.Fatalf("refused destination: %v, opened %d", err, inner.opened)
	}
	if _, err := ct.Target(context.Background(), store.BackupDestination{Name: "public"}); err != nil || inner.opened != 1 {
		t.Fatalf("accepted destination: %v, opened %d", err, inner.opened)
	}
}
