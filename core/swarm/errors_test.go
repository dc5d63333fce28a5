package swarm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"
)

func TestIsAlreadyExists(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"conflict", fmt.Errorf("create: %w", errdefs.ErrConflict), true},
		{"already exists", errdefs.ErrAlreadyExists, true},
		{"service name taken", errors.New("Error response from daemon: rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists"), true},
		{"network created twice at once (Engine 20.10)", errors.New(`Error response from daemon: rpc error: code = Unknown desc = name conflicts with an existing object`), true},
		{"other", errors.New("no such image"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isAlreadyExists(tc.err); got != tc.want {
				t.Errorf("isAlreadyExists(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
