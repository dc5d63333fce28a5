package api

import (
	"github.com/gofiber/fiber/v2"
)

// Endpoint is a route's handler together with the request and response
// types it really decodes and renders, so the API description is made from
// the handler itself and cannot drift from it. Build one with JSON
// (a JSON body) or Plain (no body) and put it in Route.Do.
type Endpoint struct {
	body, response any
	handler        func(c *fiber.Ctx, status int) error
}

// NoContent is the response type of endpoints that answer 204.
type NoContent struct{}

// JSON makes an endpoint that decodes a JSON body into Req (strictly: see
// decodeBody), calls fn and renders its Resp as JSON with the route's
// status.
func JSON[Req, Resp any](fn func(c *fiber.Ctx, req Req) (Resp, error)) Endpoint {
	var req Req
	var resp Resp
	return Endpoint{body: req, response: responseDoc(resp), handler: func(c *fiber.Ctx, status int) error {
		var in Req
		if err := decodeBody(c, &in); err != nil {
			return err
		}
		out, err := fn(c, in)
		if err != nil {
			return err
		}
		return render(c, status, out)
	}}
}

// Plain makes an endpoint that reads no body (its inputs are the path and
// the query string), calls fn and renders its Resp with the route's status
// (204 and no body when Resp is NoContent).
func Plain[Resp any](fn func(c *fiber.Ctx) (Resp, error)) Endpoint {
	var resp Resp
	return Endpoint{response: responseDoc(resp), handler: func(c *fiber.Ctx, status int) error {
		out, err := fn(c)
		if err != nil {
			return err
		}
		return render(c, status, out)
	}}
}

// responseDoc is the documented response: nil for NoContent.
func responseDoc(v any) any {
	if _, ok := v.(NoContent); ok {
		return nil
	}
	return v
}

func render(c *fiber.Ctx, status int, out any) error {
	if _, ok := out.(NoContent); ok {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Status(status).JSON(out)
}
