package backup

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/core/database"
)

// ExecForTest runs cmd in a container with stdin and returns its stdout.
func ExecForTest(ctx context.Context, d Docker, id string, cmd database.Command, stdin string) (string, error) {
	var out strings.Builder
	var in *strings.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
		err := execIn(ctx, d, id, cmd, in, &out)
		return out.String(), err
	}
	err := execIn(ctx, d, id, cmd, nil, &out)
	return out.String(), err
}

// ParseInventory exposes parseInventory to the tests.
var ParseInventory = parseInventory
