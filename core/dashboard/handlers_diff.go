package dashboard

import (
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
)

// releaseChanges is the deployment page's "compared with the previous
// release" section.
type releaseChanges struct {
	// Previous is the release the deployment replaced.
	Previous uuid.UUID
	Rows     []changeRow
	// Note says why there is nothing to compare (a release recorded no
	// snapshot).
	Note string
}

// changeRow is one changed field; a value a release does not have is "—".
type changeRow struct {
	Field, From, To string
	Secret          bool
}

// releaseChanges compares dep with the release it replaced; nil when
// there is none.
func (d *Dashboard) releaseChanges(r *request, dep store.Deployment) (*releaseChanges, error) {
	diff, ok, err := d.svc.Deployments.DiffWithPrevious(r.c.UserContext(), r.p, dep)
	if !ok {
		return nil, err
	}
	out := &releaseChanges{Previous: diff.From}
	if p := problem.Classify(err); p != nil {
		if p.Kind != problem.Conflict {
			return nil, err
		}
		out.Note = p.Message
		return out, nil
	}
	shown := func(v *string) string {
		if v == nil {
			return "—"
		}
		return *v
	}
	for _, c := range diff.Changes {
		out.Rows = append(out.Rows, changeRow{Field: c.Field, From: shown(c.From), To: shown(c.To), Secret: c.Secret})
	}
	return out, nil
}
