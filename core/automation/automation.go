// Package automation holds the patterns of push-to-deploy and preview
// deployments: tag globs, watch paths and preview host patterns, with the
// rules that check them. The webhook receiver matches events with them;
// the service layer checks an application's settings with the same rules.
package automation

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// TagMatches reports whether tag matches the glob pattern (path.Match
// syntax); an empty pattern matches every tag.
func TagMatches(pattern, tag string) bool {
	if pattern == "" {
		return true
	}
	ok, err := path.Match(pattern, tag)
	return err == nil && ok
}

// ValidateTagPattern checks a tag glob.
func ValidateTagPattern(pattern string) error {
	if len(pattern) > 200 {
		return fmt.Errorf("must be at most 200 characters")
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return fmt.Errorf("%q is not a valid glob: %v", pattern, err)
	}
	return nil
}

// PathsMatch reports whether any changed path matches any watch pattern.
// Patterns are gitignore-style: "*" and "?" stay within a path segment,
// "**" spans segments, a pattern without a slash matches a file or
// directory name at any depth, a leading "/" anchors at the repository
// root, a trailing "/" matches everything below a directory, and "!"
// excludes what an earlier pattern matched.
func PathsMatch(patterns, paths []string) bool {
	compiled := make([]watchPattern, 0, len(patterns))
	for _, p := range patterns {
		if wp, err := compileWatch(p); err == nil {
			compiled = append(compiled, wp)
		}
	}
	for _, file := range paths {
		matched := false
		for _, wp := range compiled {
			if wp.re.MatchString(strings.TrimPrefix(file, "/")) {
				matched = !wp.negate
			}
		}
		if matched {
			return true
		}
	}
	return false
}

// ValidateWatchPath checks one watch pattern.
func ValidateWatchPath(p string) error {
	_, err := compileWatch(p)
	return err
}

type watchPattern struct {
	re     *regexp.Regexp
	negate bool
}

func compileWatch(p string) (watchPattern, error) {
	var wp watchPattern
	if p == "" || strings.TrimSpace(p) != p || len(p) > 500 || strings.ContainsAny(p, "\x00\n\r") {
		return wp, fmt.Errorf("%q must be a non-empty pattern of at most 500 characters without surrounding spaces", p)
	}
	if rest, ok := strings.CutPrefix(p, "!"); ok {
		wp.negate, p = true, rest
	}
	anchored := strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "/"), "/")
	p = strings.TrimPrefix(p, "/")
	dir := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return wp, fmt.Errorf("pattern matches nothing")
	}
	var b strings.Builder
	b.WriteString("^")
	if !anchored {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '*' && i+1 < len(p) && p[i+1] == '*':
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++
				b.WriteString("(?:.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return wp, fmt.Errorf("%q has an unclosed '['", p)
			}
			class := p[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	// A pattern naming a directory matches everything below it; a file
	// pattern matches the file itself (and a directory of that name).
	if dir {
		b.WriteString("/.*$")
	} else {
		b.WriteString("(?:/.*)?$")
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return wp, fmt.Errorf("%q is not a valid pattern: %v", p, err)
	}
	wp.re = re
	return wp, nil
}

// Placeholders of a preview host pattern.
const (
	PlaceholderNumber = "{number}"
	PlaceholderApp    = "{app}"
	PlaceholderBranch = "{branch}"
)

var (
	placeholderPattern = regexp.MustCompile(`\{[^}]*\}`)
	hostLabelPattern   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	slugUnsafe         = regexp.MustCompile(`[^a-z0-9]+`)
)

// Slug lowercases s and turns runs of other characters into '-', at most
// max characters, for use in a host name label.
func Slug(s string, max int) string {
	s = strings.Trim(slugUnsafe.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if len(s) > max {
		s = strings.TrimRight(s[:max], "-")
	}
	if s == "" {
		s = "x"
	}
	return s
}

// RenderHost makes a preview's host from a pattern.
func RenderHost(pattern string, number int, app, branch string) (string, error) {
	h := strings.NewReplacer(PlaceholderNumber, strconv.Itoa(number), PlaceholderApp, Slug(app, 40),
		PlaceholderBranch, Slug(branch, 30)).Replace(pattern)
	if !IsHostname(h) {
		return "", fmt.Errorf("%q is not a valid host name", h)
	}
	return h, nil
}

// ValidateHostPattern checks a preview host pattern: known placeholders,
// {number} present (each pull request gets its own host) and a valid host
// name for sample values.
func ValidateHostPattern(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("is required when previews are enabled")
	}
	for _, ph := range placeholderPattern.FindAllString(pattern, -1) {
		if ph != PlaceholderNumber && ph != PlaceholderApp && ph != PlaceholderBranch {
			return fmt.Errorf("unknown placeholder %s (use {number}, {app}, {branch})", ph)
		}
	}
	if !strings.Contains(pattern, PlaceholderNumber) {
		return fmt.Errorf("must contain {number}, so each pull request gets its own host")
	}
	if _, err := RenderHost(pattern, 12345, "my-application-name", "feature/some-branch-name"); err != nil {
		return fmt.Errorf("does not make a valid host: %v", err)
	}
	return nil
}

// IsHostname reports whether h is a lowercase DNS name of LDH labels.
func IsHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if len(label) > 63 || !hostLabelPattern.MatchString(label) {
			return false
		}
	}
	return true
}
