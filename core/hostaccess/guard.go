package hostaccess

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

// Source reads what the guard decides on (a *store.Store): the instance
// settings and which organizations use named volumes.
type Source interface {
	InstanceSettings(ctx context.Context) (store.InstanceSettings, error)
	VolumeOrganizations(ctx context.Context, names []string) (map[string][]uuid.UUID, error)
}

// Guard is the service every writer of applications, databases, backup
// destinations and organizations asks before writing: it builds the Policy
// from the stored instance settings and the ports berth and Traefik use, and
// checks the principal's uses of host-level powers. The API, the dashboard
// and the webhook receiver share one Guard.
type Guard struct {
	src      Source
	reserved map[int]string
}

// NewGuard returns a guard reading settings from src. ports are the host
// ports berth itself uses, by what uses them (e.g. "the berth API": 7080,
// "Traefik HTTP": 80); tenants may never publish them.
func NewGuard(src Source, ports map[string]int) *Guard {
	return &Guard{src: src, reserved: Reserved(ports)}
}

// ActorOf returns the actor of a principal; nil (an unauthenticated change
// such as a webhook) is an ordinary tenant.
func ActorOf(p *store.Principal) Actor {
	if p == nil {
		return Actor{}
	}
	return Actor{InstanceAdmin: p.User.InstanceAdmin}
}

// Policy returns the policy in force now for a change of org (uuid.Nil for
// one outside any organization) asking for uses.
func (g *Guard) Policy(ctx context.Context, org uuid.UUID, uses []Use) (Policy, error) {
	in, err := g.src.InstanceSettings(ctx)
	if err != nil {
		return Policy{}, fmt.Errorf("hostaccess: read instance settings: %w", err)
	}
	p := Policy{BindMountRoots: in.BindMountRoots, HostDirectoryRoots: in.LocalBackupRoots,
		AllowOrganizationCreation: in.AllowOrganizationCreation, ReservedPorts: g.reserved, ForeignVolumes: map[string]bool{}}
	var volumes []string
	for _, u := range uses {
		if u.Power == Volume {
			volumes = append(volumes, u.Path)
		}
	}
	if len(volumes) > 0 {
		owners, err := g.src.VolumeOrganizations(ctx, volumes)
		if err != nil {
			return Policy{}, fmt.Errorf("hostaccess: volume owners: %w", err)
		}
		for name, orgs := range owners {
			for _, o := range orgs {
				if o != org {
					p.ForeignVolumes[name] = true
				}
			}
		}
	}
	return p, nil
}

// Check returns a *ForbiddenError when p may not make one of uses (a new
// record's in org), nil when it may.
func (g *Guard) Check(ctx context.Context, p *store.Principal, org uuid.UUID, uses []Use) error {
	return g.CheckChange(ctx, p, org, nil, uses)
}

// CheckChange checks a change of a record whose current settings use
// before and whose new settings use after. Uses the record already makes
// were allowed to whoever set them (an instance administrator, or a policy
// since narrowed) and are kept: a member may rename an application an
// instance administrator gave a bind mount. Only added or changed uses are
// checked. org is the organization the record belongs to (uuid.Nil for
// none).
func (g *Guard) CheckChange(ctx context.Context, p *store.Principal, org uuid.UUID, before, after []Use) error {
	actor := ActorOf(p)
	added := Added(before, after)
	if actor.InstanceAdmin || len(added) == 0 {
		return nil
	}
	policy, err := g.Policy(ctx, org, added)
	if err != nil {
		return err
	}
	return policy.Check(actor, added)
}

// Added returns the uses of after that before does not make. Uses are
// compared by power and what they reach (path, port, detail), not by field,
// so reordering a list adds nothing.
func Added(before, after []Use) []Use {
	had := map[Use]bool{}
	for _, u := range before {
		u.Field = ""
		had[u] = true
	}
	var out []Use
	for _, u := range after {
		k := u
		k.Field = ""
		if !had[k] {
			out = append(out, u)
		}
	}
	return out
}
