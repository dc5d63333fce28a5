package api_test

import (
	"strings"
	"testing"

	"github.com/berth-dev/berth/core/service"
)

// notOrgResources are the :id routes whose id is not a record of an
// organization: the caller's own API key, a user (instance
// administrators), a plugin.
var notOrgResources = map[string]bool{
	"/api/v1/api-keys/:id":         true,
	"/api/v1/users/:id":            true,
	"/api/v1/plugins/:id/settings": true,
	"/api/v1/servers/:id/metrics":  true, // a Swarm node (metrics)
}

// TestRoutesDeclareResourceAndRole: every route that names a record of an
// organization by :id declares the resource (loaded and checked before
// its handler runs) and the least role; every other non-public route
// declares who may call it.
func TestRoutesDeclareResourceAndRole(t *testing.T) {
	h := newHarness(t)
	for _, r := range h.srv.Routes() {
		if r.Public || r.Webhook {
			continue
		}
		name := r.Method + " " + r.Path
		if r.Access.String() == "" {
			t.Errorf("%s declares no access", name)
		}
		if strings.Contains(r.Path, "/:id") && !notOrgResources[r.Path] {
			if r.Resource == service.NoResource {
				t.Errorf("%s names a record by :id but declares no Resource", name)
			}
			if r.Access.Role == "" {
				t.Errorf("%s declares a resource but no least role", name)
			}
		}
	}
}
