package backup_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/backup"
	"github.com/berth-dev/berth/core/database"
)

// TestParseInventory: base tables of both schemas are swapped; objects
// RENAME TABLE cannot move across schemas refuse the swap.
func TestParseInventory(t *testing.T) {
	w := database.NewSwap("shop", uuid.MustParse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"))
	row := func(schema, kind, name string) string { return schema + "\t" + kind + "\t" + name + "\n" }
	tests := []struct {
		name          string
		in            string
		target, fresh []string
		refused       string
	}{
		{"tables", row("shop", "BASE TABLE", "items") + row(w.Fresh, "BASE TABLE", "items") + row(w.Fresh, "BASE TABLE", "orders"),
			[]string{"items"}, []string{"items", "orders"}, ""},
		{"a view in the target stays", row("shop", "VIEW", "v") + row(w.Fresh, "BASE TABLE", "items"), nil, []string{"items"}, ""},
		{"a view in the dump", row(w.Fresh, "BASE TABLE", "items") + row(w.Fresh, "VIEW", "cheap"), nil, nil, "view cheap"},
		{"a routine in the dump", row(w.Fresh, "ROUTINE", "total"), nil, nil, "routine total"},
		{"a trigger on the target", row("shop", "TRIGGER", "audit"), nil, nil, "trigger audit"},
		{"empty", "", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, fresh, err := backup.ParseInventory(strings.NewReader(tt.in), w)
			if tt.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want a refusal naming %q", err, tt.refused)
				}
				return
			}
			if err != nil || !slices.Equal(target, tt.target) || !slices.Equal(fresh, tt.fresh) {
				t.Fatalf("got %q %q %v, want %q %q", target, fresh, err, tt.target, tt.fresh)
			}
		})
	}
}
