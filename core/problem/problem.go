// Package problem is the typed failure every operation of berth's service
// layer returns: invalid input naming its field, not found, forbidden,
// conflict, unavailable. Each front door renders it its own way (the API as
// a JSON error with a status, the dashboard as a form error or an error
// page), so the same mistake gets the same status and message everywhere.
package problem

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/store"
)

// Kind classifies a failure.
type Kind int

// The kinds of failure, each with one HTTP status.
const (
	// Internal is a server failure; its details are logged, never shown.
	Internal Kind = iota
	// Invalid input: the field and what is wrong with it (422).
	Invalid
	// BadRequest is a request that cannot be read at all (400).
	BadRequest
	// NotFound: the resource does not exist or the caller may not know it does (404).
	NotFound
	// Forbidden: the caller's role or powers do not allow it (403).
	Forbidden
	// Conflict with the current state (409).
	Conflict
	// Unavailable: a dependency is missing or down (503).
	Unavailable
	// Unauthenticated: no valid credentials (401).
	Unauthenticated
	// BadGateway: an outside system (a plugin, a git host, Swarm) failed (502).
	BadGateway
)

// Status is the HTTP status of the kind.
func (k Kind) Status() int {
	switch k {
	case Invalid:
		return http.StatusUnprocessableEntity
	case BadRequest:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Forbidden:
		return http.StatusForbidden
	case Conflict:
		return http.StatusConflict
	case Unavailable:
		return http.StatusServiceUnavailable
	case Unauthenticated:
		return http.StatusUnauthorized
	case BadGateway:
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}

// defaultCode is the API's error code of the kind when none is given.
func (k Kind) defaultCode() string {
	switch k {
	case Invalid:
		return "validation_failed"
	case BadRequest:
		return "invalid_request"
	case NotFound:
		return "not_found"
	case Forbidden:
		return "forbidden"
	case Conflict:
		return "conflict"
	case Unavailable:
		return "unavailable"
	case Unauthenticated:
		return "unauthenticated"
	case BadGateway:
		return "bad_gateway"
	}
	return "internal"
}

// Error is a classified failure. Message never repeats the field name;
// Error() prefixes it ("name: is required").
type Error struct {
	Kind Kind
	// Code is the API's machine-readable code (default from Kind).
	Code string
	// Field names the input at fault, in the API's JSON spelling.
	Field   string
	Message string
	// Err is the cause, kept for errors.Is/As and logs; never shown.
	Err error
}

// Error returns "field: message", or the message alone.
func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status of the failure.
func (e *Error) Status() int { return e.Kind.Status() }

// APICode is the API's error code.
func (e *Error) APICode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Kind.defaultCode()
}

// InvalidField reports invalid input of field.
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Malformed reports a request that cannot be read (400), naming field when known.
func Malformed(field, format string, args ...any) *Error {
	return &Error{Kind: BadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Missing reports that what does not exist, or that the caller may not
// know it does: non-members get this for every resource of an organization.
func Missing(what string) *Error {
	return &Error{Kind: NotFound, Message: what + " not found"}
}

// ErrRole is the refusal of an action the caller's role does not allow.
var ErrRole = &Error{Kind: Forbidden, Message: "your role does not allow this"}

// ErrNotInstanceAdmin refuses instance-administrator operations to everyone else.
var ErrNotInstanceAdmin = &Error{Kind: Forbidden, Message: "only instance administrators may do this"}

// Denied reports a refused action with a reason.
func Denied(field, msg string) *Error {
	return &Error{Kind: Forbidden, Field: field, Message: msg}
}

// Conflicting reports a conflict with the current state, naming field when
// one input is at fault.
func Conflicting(field, msg string) *Error {
	return &Error{Kind: Conflict, Field: field, Message: msg}
}

// Down reports a missing or failing dependency (503).
func Down(msg string, cause error) *Error {
	return &Error{Kind: Unavailable, Message: msg, Err: cause}
}

// Upstream reports a failure of an outside system (502) with code; the
// message must not carry secrets.
func Upstream(code, msg string, cause error) *Error {
	return &Error{Kind: BadGateway, Code: code, Message: msg, Err: cause}
}

// Classify returns err as a *Error: a *Error as it is, the store's and the
// guards' typed errors mapped to their kind; anything else is Internal with
// a message that reveals nothing (the cause stays in Err for the log).
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	var conflictErr *store.ConflictError
	var blocked *netguard.BlockedError
	var hostErr *hostaccess.ForbiddenError
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.As(err, &blocked):
		return &Error{Kind: Forbidden, Code: "outbound_blocked", Field: blocked.Field, Message: blocked.Message, Err: err}
	case errors.As(err, &hostErr):
		return &Error{Kind: Forbidden, Field: hostErr.Field, Message: hostErr.Message, Err: err}
	case errors.Is(err, store.ErrLastInstanceAdmin):
		return &Error{Kind: Conflict, Field: "instance_admin", Message: err.Error(), Err: err}
	case errors.As(err, &conflictErr):
		return &Error{Kind: Conflict, Field: conflictErr.Field, Message: trimField(conflictErr.Field, conflictErr.Message), Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &Error{Kind: NotFound, Message: "resource not found", Err: err}
	}
	return &Error{Kind: Internal, Message: "internal error; see the server log", Err: err}
}

// IsInput reports whether err is the caller's mistake to show next to the
// input (invalid, conflicting, or a refused value of a named field) rather
// than a server failure or a refused action.
func IsInput(err error) bool {
	if err == nil {
		return false
	}
	p := Classify(err)
	switch p.Kind {
	case Invalid, BadRequest, Conflict:
		return true
	case Forbidden:
		return p.Field != ""
	}
	return false
}

func trimField(field, msg string) string {
	if field != "" && len(msg) > len(field)+2 && msg[:len(field)+2] == field+": " {
		return msg[len(field)+2:]
	}
	return msg
}
