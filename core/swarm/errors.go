package swarm

import (
	"errors"
	"strings"

	"github.com/containerd/errdefs"
)

// ErrNotFound is returned (wrapped) by Inspect when the service does not
// exist.
var ErrNotFound = errors.New("service not found")

// ErrInvalidSpec is returned (wrapped) by Deploy when the ServiceSpec is
// malformed; nothing was changed in Swarm.
var ErrInvalidSpec = errors.New("invalid service spec")

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// isVersionConflict reports whether a service update lost a race with
// another writer (Swarm's "update out of sequence").
func isVersionConflict(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "update out of sequence") || errdefs.IsConflict(err))
}

// isAlreadyExists reports whether a create lost a race with another
// creator. Engine 20.10 reports a Swarm network created twice at once as
// an unknown error "name conflicts with an existing object".
func isAlreadyExists(err error) bool {
	return errdefs.IsConflict(err) || errdefs.IsAlreadyExists(err) ||
		(err != nil && (strings.Contains(err.Error(), "already exists") ||
			strings.Contains(err.Error(), "name conflicts with an existing object")))
}
