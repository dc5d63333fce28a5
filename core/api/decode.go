package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// decodeBody parses a JSON body strictly: unknown fields, trailing data and
// wrong types are 400s that name the field.
func decodeBody(c *fiber.Ctx, dst any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				field = "body"
			}
			return badRequest(field, "must be %s, got %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value)
		case errors.As(err, &syntaxErr):
			return badRequest("body", "invalid JSON at offset %d: %v", syntaxErr.Offset, err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badRequest(name, "unknown field")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("body", "JSON ends too early")
		default:
			if field := badIDField(body, dst); field != "" {
				return badRequest(field, "is not a valid id")
			}
			return badRequest("body", "invalid JSON: %v", err)
		}
	}
	if dec.More() {
		return badRequest("body", "unexpected data after the JSON object")
	}
	return nil
}

// badIDField names the id (uuid.UUID) field of the struct dst points to
// whose value in body is not a valid id, or returns "".
func badIDField(body []byte, dst any) string {
	t := reflect.TypeOf(dst)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return ""
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return ""
	}
	t = t.Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if ft != uuidType || name == "" || name == "-" {
			continue
		}
		var id uuid.UUID
		if v, ok := raw[name]; ok && json.Unmarshal(v, &id) != nil {
			return name
		}
	}
	return ""
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "float32", "float64":
		return "a number"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") {
		return "an integer"
	}
	return kind
}

// pathID parses the :name path parameter as a UUID; a malformed id is a 404
// for what, since no such resource can exist.
func pathID(c *fiber.Ctx, name, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return uuid.Nil, notFound(what)
	}
	return id, nil
}

// queryID parses an optional UUID query parameter.
func queryID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	v := c.Query(name)
	if v == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, badRequest(name, "%q is not a valid id", v)
	}
	return id, nil
}

// queryBool reads an optional boolean query parameter (true/1, false/0;
// absent is false).
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	switch v := c.Query(name); v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	default:
		return false, badRequest(name, "must be true or false, got %q", v)
	}
}

// pageParams reads ?limit= and ?cursor=.
func pageParams(c *fiber.Ctx) (store.Page, error) {
	var p store.Page
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPageSize {
			return p, badRequest("limit", "must be an integer from 1 to %d", store.MaxPageSize)
		}
		p.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return p, badRequest("cursor", "is not a cursor returned by this endpoint")
		}
		p.After = id
	}
	return p, nil
}

// List is the JSON shape of every paginated list.
type List[T any] struct {
	Items []T `json:"items"`
	// NextCursor is passed as ?cursor= to get the next page; null on the last page.
	NextCursor *string `json:"next_cursor"`
}

func listOf[T any](items []T, more bool, id func(T) uuid.UUID) List[T] {
	if items == nil {
		items = []T{}
	}
	l := List[T]{Items: items}
	if more && len(items) > 0 {
		s := id(items[len(items)-1]).String()
		l.NextCursor = &s
	}
	return l
}

func fmtRange(lo, hi int) string { return fmt.Sprintf("from %d to %d", lo, hi) }
