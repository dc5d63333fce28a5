package api

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// OpenAPI builds the OpenAPI 3.1 document for the declared routes.
func (s *Server) OpenAPI() map[string]any {
	g := &schemaGen{components: map[string]any{}}
	g.components["ErrorBody"] = g.structSchema(reflect.TypeOf(ErrorBody{}))
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		p := OpenAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.Method)] = g.operation(r)
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "berth API",
			"version":     Version,
			"description": "Self-hosted platform as a service. Authenticate with `Authorization: Bearer <api key>` or the session cookie (plus X-CSRF-Token on unsafe methods).",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "description": "an API key (berth_...)"},
				"cookieAuth": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
		},
		"security": []any{map[string]any{"bearerAuth": []any{}}, map[string]any{"cookieAuth": []any{}}},
	}
}

var fiberParam = regexp.MustCompile(`:([a-zA-Z_]+)`)

// OpenAPIPath converts a Fiber path (/projects/:id) to OpenAPI (/projects/{id}).
func OpenAPIPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(s.openAPIDoc)
}

type schemaGen struct {
	components map[string]any
}

func errorResponse(desc string) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/ErrorBody"}}}}
}

func (g *schemaGen) operation(r Route) map[string]any {
	op := map[string]any{
		"summary":     r.Summary,
		"operationId": operationID(r),
		"tags":        []string{r.Tag},
	}
	var params []any
	for _, m := range fiberParam.FindAllStringSubmatch(r.Path, -1) {
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
	}
	for _, q := range r.Query {
		params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Description, "schema": map[string]any{"type": q.Type}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if r.Body != nil {
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(r.Body))}}}
	}
	status := r.Status
	if status == 0 {
		status = 200
	}
	responses := map[string]any{}
	if r.Response == nil {
		responses[itoa(status)] = map[string]any{"description": "done"}
	} else {
		media := r.Produces
		if media == "" {
			media = "application/json"
		}
		responses[itoa(status)] = map[string]any{"description": "success", "content": map[string]any{
			media: map[string]any{"schema": g.schema(reflect.TypeOf(r.Response))}}}
	}
	responses["400"] = errorResponse("malformed request; the message names the field")
	if r.Body != nil {
		responses["422"] = errorResponse("validation failed; the message names the field")
	}
	if r.Webhook {
		op["security"] = []any{}
		op["description"] = "Authenticated by the webhook's signature or deploy token, not by an API key or session; a bad or missing one (or an unknown webhook id) answers 401."
	}
	if a := r.Access.String(); a != "" {
		// Who may call it: a role in the resource's organization (others
		// get a 404), "instance-admin" or "signed-in".
		op["x-berth-access"] = a
	}
	if r.Public {
		op["security"] = []any{}
	} else {
		responses["401"] = errorResponse("not authenticated")
		responses["403"] = errorResponse("role does not allow this, or CSRF token missing")
	}
	if strings.Contains(r.Path, ":") {
		responses["404"] = errorResponse("not found")
	}
	if r.Method == "POST" || r.Method == "PATCH" || r.Method == "PUT" || r.Method == "DELETE" {
		responses["409"] = errorResponse("conflicts with existing state")
	}
	op["responses"] = responses
	return op
}

func itoa(n int) string { return strconv.Itoa(n) }

func operationID(r Route) string {
	parts := strings.FieldsFunc(strings.TrimPrefix(r.Path, Prefix), func(c rune) bool { return c == '/' || c == '-' || c == '_' || c == '.' })
	id := strings.ToLower(r.Method)
	for _, p := range parts {
		if strings.HasPrefix(p, ":") {
			p = "by" + strings.TrimPrefix(p, ":")
		}
		id += strings.ToUpper(p[:1]) + p[1:]
	}
	return id
}

var (
	timeType = reflect.TypeOf(time.Time{})
	uuidType = reflect.TypeOf(uuid.UUID{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case uuidType:
		return map[string]any{"type": "string", "format": "uuid"}
	case rawType:
		return map[string]any{"description": "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.schema(t.Elem())
		if typ, ok := inner["type"].(string); ok {
			out := map[string]any{}
			for k, v := range inner {
				out[k] = v
			}
			out["type"] = []string{typ, "null"}
			return out
		}
		return map[string]any{"oneOf": []any{inner, map[string]any{"type": "null"}}}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := schemaName(t)
		if _, ok := g.components[name]; !ok {
			g.components[name] = map[string]any{} // placeholder breaks recursion
			g.components[name] = g.structSchema(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	g.fields(t, props)
	return map[string]any{"type": "object", "properties": props}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, props)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
}

var genericArg = regexp.MustCompile(`\[.*\.([A-Za-z0-9]+)\]$`)

// schemaName names a component: List[...store.Project] becomes ProjectList.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if m := genericArg.FindStringSubmatch(n); m != nil {
		return m[1] + strings.SplitN(n, "[", 2)[0]
	}
	return n
}
