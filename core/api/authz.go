package api

import (
	"errors"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// orgIDs returns the organizations the caller belongs to (the filter of
// every list).
func orgIDs(p *store.Principal) []uuid.UUID { return service.OrganizationsOf(p) }

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
