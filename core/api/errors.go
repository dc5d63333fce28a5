package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// Error is an error with an HTTP status, rendered as
// {"error": {"code": ..., "message": ..., "field": ...}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error Error `json:"error"`
}

func badRequest(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Field: field, Message: msg}
}

func invalid(field, format string, args ...any) *Error {
	e := badRequest(field, format, args...)
	e.Status, e.Code = http.StatusUnprocessableEntity, "validation_failed"
	return e
}

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
		Message: "authentication required: send 'Authorization: Bearer <api key>' or sign in"}
	errForbidden = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "your role does not allow this"}
	errCSRF      = &Error{Status: http.StatusForbidden, Code: "csrf_failed",
		Message: "missing or invalid X-CSRF-Token header (required with session cookies on unsafe methods)"}
)

func notFound(what string) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: what + " not found"}
}

func conflict(field, msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Field: field, Message: msg}
}

// errorHandler renders every error returned by a handler in one place.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var apiErr *Error
		var conflictErr *store.ConflictError
		var fiberErr *fiber.Error
		var blocked *netguard.BlockedError
		var hostErr *hostaccess.ForbiddenError
		switch {
		case errors.As(err, &apiErr):
		case errors.As(err, &blocked):
			apiErr = &Error{Status: http.StatusForbidden, Code: "outbound_blocked", Field: blocked.Field, Message: blocked.Error()}
		case errors.As(err, &hostErr):
			apiErr = &Error{Status: http.StatusForbidden, Code: "forbidden", Field: hostErr.Field, Message: hostErr.Error()}
		case errors.Is(err, store.ErrLastInstanceAdmin):
			apiErr = conflict("instance_admin", "instance_admin: "+err.Error())
		case errors.As(err, &conflictErr):
			apiErr = conflict(conflictErr.Field, conflictErr.Message)
		case errors.Is(err, store.ErrNotFound):
			apiErr = notFound("resource")
		case errors.As(err, &fiberErr):
			apiErr = &Error{Status: fiberErr.Code, Code: http.StatusText(fiberErr.Code), Message: fiberErr.Message}
			if fiberErr.Code == http.StatusRequestEntityTooLarge {
				apiErr.Code, apiErr.Message = "too_large", "body: request body is too large"
			}
		default:
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
			apiErr = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error; see the server log"}
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		body, _ := json.Marshal(ErrorBody{Error: *apiErr})
		return c.Status(apiErr.Status).Send(body)
	}
}
