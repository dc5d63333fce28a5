package restapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NextLink returns the target of the rel="next" link of an RFC 8288 Link
// header value, the pagination GitHub and Gitea use:
//
//	<https://api.github.com/user/repos?page=2>; rel="next", <...>; rel="last"
//
// A relative target is resolved against base. It returns "" when there is
// no next link (the last page).
func NextLink(header string, base *url.URL) string {
	for _, link := range splitLinks(header) {
		target, params, ok := parseLink(link)
		if !ok || !hasRel(params, "next") {
			continue
		}
		u, err := url.Parse(target)
		if err != nil {
			continue
		}
		if base != nil {
			u = base.ResolveReference(u)
		}
		return u.String()
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links,
// leaving commas inside <...> and quoted strings alone.
func splitLinks(header string) []string {
	var links []string
	inTarget, inQuote := false, false
	start := 0
	for i := 0; i < len(header); i++ {
		switch c := header[i]; {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '<':
			inTarget = true
		case c == '>':
			inTarget = false
		case c == '"' && !inTarget:
			inQuote = true
		case c == ',' && !inTarget:
			links = append(links, header[start:i])
			start = i + 1
		}
	}
	return append(links, header[start:])
}

// parseLink splits one link into its target and its parameters, with
// lower-case names and unquoted values.
func parseLink(link string) (string, map[string]string, bool) {
	link = strings.TrimSpace(link)
	if !strings.HasPrefix(link, "<") {
		return "", nil, false
	}
	end := strings.IndexByte(link, '>')
	if end < 0 {
		return "", nil, false
	}
	target := link[1:end]
	params := map[string]string{}
	for _, p := range strings.Split(link[end+1:], ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		params[name] = strings.Trim(strings.TrimSpace(value), `"`)
	}
	return target, params, true
}

// hasRel reports whether the rel parameter (a space-separated list) holds
// rel, case-insensitively.
func hasRel(params map[string]string, rel string) bool {
	for _, r := range strings.Fields(params["rel"]) {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// EachPage GETs ref (see Client.Do), then every page its Link header names
// next, decoding each page into a new T and passing it to visit, which
// returns false to stop. More than maxPages pages is an error.
func EachPage[T any](ctx context.Context, c *Client, ref string, maxPages int, visit func(T) bool) error {
	for page := 0; ref != ""; page++ {
		if page == maxPages {
			return fmt.Errorf("%s: more than %d pages", c.Provider, maxPages)
		}
		var items T
		resp, err := c.Do(ctx, http.MethodGet, ref, nil, &items)
		if err != nil {
			return err
		}
		if !visit(items) {
			return nil
		}
		ref = resp.Next
	}
	return nil
}
