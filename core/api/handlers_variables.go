package api

import (
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/vars"
	"github.com/gofiber/fiber/v2"
)

// VariableList is every variable of one owner, sorted by key.
type VariableList struct {
	Items []store.Variable `json:"items"`
}

// ReplaceVariablesRequest sets an owner's variables to exactly these.
type ReplaceVariablesRequest struct {
	Variables map[string]string `json:"variables"`
}

// SetVariableRequest sets one variable's value.
type SetVariableRequest struct {
	Value string `json:"value"`
}

// ResolvedVariables is an application's environment as its containers get it.
type ResolvedVariables struct {
	Variables map[string]string `json:"variables"`
}

type variableScope struct {
	scope    store.Scope
	plural   string
	resource service.Resource
}

var variableScopes = []variableScope{
	{store.ScopeProject, "projects", service.ProjectResource},
	{store.ScopeEnvironment, "environments", service.EnvironmentResource},
	{store.ScopeApplication, "applications", service.ApplicationResource},
}

// listVariables lists the owner's variables (members: values are secrets).
func (s *Server) listVariables(c *fiber.Ctx) (VariableList, error) {
	o := service.OwnerOf(*resolved(c))
	vs, err := s.store.ListVariables(c.UserContext(), o.Scope, o.ID)
	if vs == nil {
		vs = []store.Variable{}
	}
	return VariableList{Items: vs}, err
}

func (s *Server) replaceVariables(c *fiber.Ctx, req ReplaceVariablesRequest) (VariableList, error) {
	vs, err := s.svc.Variables.Replace(c.UserContext(), principal(c), service.OwnerOf(*resolved(c)), req.Variables)
	return VariableList{Items: vs}, err
}

func (s *Server) setVariable(c *fiber.Ctx, req SetVariableRequest) (store.Variable, error) {
	v := service.Variable{Key: strings.Clone(c.Params("key")), Value: req.Value}
	return s.svc.Variables.Set(c.UserContext(), principal(c), service.OwnerOf(*resolved(c)), v)
}

func (s *Server) deleteVariable(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Variables.Delete(c.UserContext(), principal(c), service.OwnerOf(*resolved(c)), strings.Clone(c.Params("key")))
}

// LayersFor loads the three variable levels of an application.
func LayersFor(c *fiber.Ctx, st *store.Store, a store.Application) (vars.Layers, error) {
	ctx := c.UserContext()
	var l vars.Layers
	var err error
	if l.Project, err = st.VariableMap(ctx, store.ScopeProject, a.ProjectID); err != nil {
		return l, err
	}
	if l.Environment, err = st.VariableMap(ctx, store.ScopeEnvironment, a.EnvironmentID); err != nil {
		return l, err
	}
	l.Application, err = st.VariableMap(ctx, store.ScopeApplication, a.ID)
	return l, err
}

func (s *Server) resolvedVariables(c *fiber.Ctx) (ResolvedVariables, error) {
	layers, err := LayersFor(c, s.store, resolved(c).Application)
	if err != nil {
		return ResolvedVariables{}, err
	}
	out, err := vars.Resolve(layers)
	var refErr *vars.ReferenceError
	if errors.As(err, &refErr) {
		return ResolvedVariables{}, invalid("variables."+refErr.Variable, "%s %s", refErr.Reference, refErr.Reason)
	}
	return ResolvedVariables{Variables: out}, err
}
