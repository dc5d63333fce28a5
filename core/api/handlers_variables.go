package api

import (
	"errors"
	"strings"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/vars"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
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

// maxVariableValue bounds one value; the whole environment must fit in a
// container's argument and environment space.
const maxVariableValue = 64 << 10

type variableScope struct {
	scope  store.Scope
	plural string
}

var variableScopes = []variableScope{
	{store.ScopeProject, "projects"},
	{store.ScopeEnvironment, "environments"},
	{store.ScopeApplication, "applications"},
}

// variableOwner loads the owner named by :id and checks the caller's role.
func (s *Server) variableOwner(c *fiber.Ctx, sc variableScope, min store.Role) (uuid.UUID, error) {
	switch sc.scope {
	case store.ScopeProject:
		p, err := s.loadProject(c, "id", min)
		return p.ID, err
	case store.ScopeEnvironment:
		e, err := s.loadEnvironment(c, "id", min)
		return e.ID, err
	default:
		a, err := s.loadApplication(c, "id", min)
		return a.ID, err
	}
}

func validateVariable(field, key, value string) error {
	if err := vars.ValidateName(key); err != nil {
		return invalid(field, "%v", err)
	}
	if len(value) > maxVariableValue {
		return invalid(field, "value must be at most 64 KiB")
	}
	if strings.ContainsRune(value, 0) {
		return invalid(field, "value must not contain NUL characters")
	}
	if err := vars.Validate(value); err != nil {
		return invalid(field, "value has a malformed reference: %v", err)
	}
	return nil
}

func (s *Server) listVariables(sc variableScope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		owner, err := s.variableOwner(c, sc, store.RoleMember) // values are secrets: viewers cannot read them
		if err != nil {
			return err
		}
		vs, err := s.store.ListVariables(c.UserContext(), sc.scope, owner)
		if err != nil {
			return err
		}
		if vs == nil {
			vs = []store.Variable{}
		}
		return c.JSON(VariableList{Items: vs})
	}
}

func (s *Server) replaceVariables(sc variableScope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		owner, err := s.variableOwner(c, sc, store.RoleMember)
		if err != nil {
			return err
		}
		var req ReplaceVariablesRequest
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		if req.Variables == nil {
			return invalid("variables", "is required (an object of NAME: value)")
		}
		if len(req.Variables) > 1000 {
			return invalid("variables", "at most 1000 variables")
		}
		for k, v := range req.Variables {
			if err := validateVariable("variables."+k, k, v); err != nil {
				return err
			}
		}
		if err := s.store.ReplaceVariables(c.UserContext(), sc.scope, owner, req.Variables); err != nil {
			return err
		}
		vs, err := s.store.ListVariables(c.UserContext(), sc.scope, owner)
		if err != nil {
			return err
		}
		if vs == nil {
			vs = []store.Variable{}
		}
		return c.JSON(VariableList{Items: vs})
	}
}

func (s *Server) setVariable(sc variableScope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		owner, err := s.variableOwner(c, sc, store.RoleMember)
		if err != nil {
			return err
		}
		key := strings.Clone(c.Params("key"))
		var req SetVariableRequest
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		if err := vars.ValidateName(key); err != nil {
			return invalid("key", "%v", err)
		}
		if err := validateVariable("value", key, req.Value); err != nil {
			return err
		}
		v, err := s.store.SetVariable(c.UserContext(), sc.scope, owner, key, req.Value)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

func (s *Server) deleteVariable(sc variableScope) fiber.Handler {
	return func(c *fiber.Ctx) error {
		owner, err := s.variableOwner(c, sc, store.RoleMember)
		if err != nil {
			return err
		}
		if err := s.store.DeleteVariable(c.UserContext(), sc.scope, owner, c.Params("key")); err != nil {
			return notFoundAs(err, "variable")
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
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

func (s *Server) resolvedVariables(c *fiber.Ctx) error {
	a, err := s.loadApplication(c, "id", store.RoleMember)
	if err != nil {
		return err
	}
	layers, err := LayersFor(c, s.store, a)
	if err != nil {
		return err
	}
	resolved, err := vars.Resolve(layers)
	if err != nil {
		var refErr *vars.ReferenceError
		if errors.As(err, &refErr) {
			return invalid("variables."+refErr.Variable, "%s %s", refErr.Reference, refErr.Reason)
		}
		return err
	}
	return c.JSON(ResolvedVariables{Variables: resolved})
}
