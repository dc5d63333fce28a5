package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/vars"
	"github.com/google/uuid"
)

// Variables sets and deletes the environment variables of projects,
// environments and applications (members and above: values are secrets).
type Variables struct{ s *Services }

// VariableOwner is the project, environment or application variables
// belong to.
type VariableOwner struct {
	Scope        store.Scope
	ID           uuid.UUID
	Organization uuid.UUID
}

// OwnerOf returns the variable owner a resolved project, environment or
// application is.
func OwnerOf(r Resolved) VariableOwner {
	switch r.Kind {
	case ProjectResource:
		return VariableOwner{store.ScopeProject, r.Project.ID, r.OrganizationID}
	case EnvironmentResource:
		return VariableOwner{store.ScopeEnvironment, r.Environment.ID, r.OrganizationID}
	}
	return VariableOwner{store.ScopeApplication, r.Application.ID, r.OrganizationID}
}

// maxVariableValue bounds one value; the whole environment must fit in a
// container's argument and environment space.
const maxVariableValue = 64 << 10

// Variable is one variable to set.
type Variable struct {
	Key, Value string
}

// Validate checks the name (field key) and the value (field value).
func (v Variable) Validate() error { return v.validate("key", "value") }

func (v Variable) validate(keyField, valueField string) error {
	if err := vars.ValidateName(v.Key); err != nil {
		return problem.InvalidField(keyField, "%v", err)
	}
	what := "" // the field names the value already
	if keyField == valueField {
		what = "value "
	}
	switch {
	case len(v.Value) > maxVariableValue:
		return problem.InvalidField(valueField, "%smust be at most 64 KiB", what)
	case strings.ContainsRune(v.Value, 0):
		return problem.InvalidField(valueField, "%smust not contain NUL characters", what)
	}
	if err := vars.Validate(v.Value); err != nil {
		return problem.InvalidField(valueField, "%shas a malformed reference: %v", what, err)
	}
	return nil
}

// VariableSet is every variable of an owner, NAME to value.
type VariableSet map[string]string

// Validate checks every variable, naming the field variables.NAME.
func (in VariableSet) Validate() error {
	if in == nil {
		return problem.InvalidField("variables", "is required (an object of NAME: value)")
	}
	if len(in) > 1000 {
		return problem.InvalidField("variables", "at most 1000 variables")
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := (Variable{k, in[k]}).validate("variables."+k, "variables."+k); err != nil {
			return err
		}
	}
	return nil
}

// Set creates or replaces one variable (members and above).
func (vs *Variables) Set(ctx context.Context, p *store.Principal, o VariableOwner, v Variable) (store.Variable, error) {
	if err := Authorize(p, o.Organization, store.RoleMember, string(o.Scope)); err != nil {
		return store.Variable{}, err
	}
	if err := v.Validate(); err != nil {
		return store.Variable{}, err
	}
	return vs.s.deps.Store.SetVariable(ctx, o.Scope, o.ID, v.Key, v.Value)
}

// Delete removes one variable (members and above).
func (vs *Variables) Delete(ctx context.Context, p *store.Principal, o VariableOwner, key string) error {
	if err := Authorize(p, o.Organization, store.RoleMember, string(o.Scope)); err != nil {
		return err
	}
	if err := vs.s.deps.Store.DeleteVariable(ctx, o.Scope, o.ID, key); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return problem.Missing("variable")
		}
		return err
	}
	return nil
}

// Replace sets the owner's variables to exactly in, atomically, and
// returns them sorted by name (members and above).
func (vs *Variables) Replace(ctx context.Context, p *store.Principal, o VariableOwner, in VariableSet) ([]store.Variable, error) {
	if err := Authorize(p, o.Organization, store.RoleMember, string(o.Scope)); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	st := vs.s.deps.Store
	if err := st.ReplaceVariables(ctx, o.Scope, o.ID, in); err != nil {
		return nil, err
	}
	list, err := st.ListVariables(ctx, o.Scope, o.ID)
	if err != nil {
		return nil, fmt.Errorf("list variables: %w", err)
	}
	if list == nil {
		list = []store.Variable{}
	}
	return list, nil
}
