package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/core/problem"
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

// badRequest, invalid, notFound, conflict and errForbidden are the service
// layer's problems (core/problem), so the API and the dashboard answer the
// same mistake with the same status and message.
func badRequest(field, format string, args ...any) *problem.Error {
	return problem.Malformed(field, format, args...)
}

func invalid(field, format string, args ...any) *problem.Error {
	return problem.InvalidField(field, format, args...)
}

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated",
		Message: "authentication required: send 'Authorization: Bearer <api key>' or sign in"}
	errForbidden = problem.ErrRole
	errCSRF      = &Error{Status: http.StatusForbidden, Code: "csrf_failed",
		Message: "missing or invalid X-CSRF-Token header (required with session cookies on unsafe methods)"}
)

func notFound(what string) *problem.Error { return problem.Missing(what) }

func conflict(field, msg string) *problem.Error {
	return problem.Conflicting(field, strings.TrimPrefix(msg, field+": "))
}

// errorHandler renders every error returned by a handler in one place.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var apiErr *Error
		var fiberErr *fiber.Error
		switch {
		case errors.As(err, &apiErr):
		case errors.As(err, &fiberErr):
			apiErr = &Error{Status: fiberErr.Code, Code: http.StatusText(fiberErr.Code), Message: fiberErr.Message}
			if fiberErr.Code == http.StatusRequestEntityTooLarge {
				apiErr.Code, apiErr.Message = "too_large", "body: request body is too large"
			}
		default:
			p := problem.Classify(err)
			if p.Kind == problem.Internal {
				log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
			}
			apiErr = FromProblem(p)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		body, _ := json.Marshal(ErrorBody{Error: *apiErr})
		return c.Status(apiErr.Status).Send(body)
	}
}

// FromProblem renders a service-layer problem as the API's error.
func FromProblem(p *problem.Error) *Error {
	return &Error{Status: p.Status(), Code: p.APICode(), Field: p.Field, Message: p.Error()}
}

// isAnswer reports whether err already says what to answer (an *Error or
// a *problem.Error), so wrappers pass it on unchanged.
func isAnswer(err error) bool {
	var apiErr *Error
	var pe *problem.Error
	return errors.As(err, &apiErr) || errors.As(err, &pe)
}
