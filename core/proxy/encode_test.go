package proxy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// trickyStrings are strings YAML would read as another type or not at all
// when written plain, strings needing JSON escapes, strings outside
// printable ASCII and Go template delimiters.
var trickyStrings = []string{
	"a", "web", "Host(`a.example.com`) && PathPrefix(`/api`)", "http://tasks.app:8080", "127.0.0.1/32", "10s",
	"0", "12", "-1", "1.5", ".5", "1e3", "0x1F", "0o17", "1_000", "99999999999999999999", "1:20", "2001-12-14",
	"true", "False", "yes", "NO", "on", "y", "~", "null", ".inf", ".nan", "<<", "[a-z]+", "]", "{x}", "}", "*star",
	"&amp", "!bang", "|pipe", ">gt", "'quoted'", `"double"`, "%pct", "@at", "`tick`", "#hash", ",comma", "? q",
	": x", "- x", "-", "a: b", "a #b", "---", "...", `a\b`, `^https?://www\.example\.com/(.*)`,
	"https://example.com/${1}", "alice:$2a$05$WuwdynZPQgS5kMoAfjdaPO5hHQdPXlgdwpZ818Pk/oQM1PTmKzFz.",
	"<script>", "a\u2028b", "^https://ü\\.example/(.*)", "tab\there", "日本/${1}", "nel\u0085", "bom\ufeff",
	"del\x7f", "c1\u0090", "nonchar\uffff", "emoji😀", "{{", "{{.}}", "{{ bogus }}", "a{{{b", `\{{`, "{{{{", "}}",
}

// TestEncodeReadsBackThroughPaerser checks every tricky string reads back
// unchanged through paerser, and that no encoding holds "{{".
func TestEncodeReadsBackThroughPaerser(t *testing.T) {
	for _, s := range trickyStrings {
		cfg := &Config{HTTP: &HTTPConfig{
			Routers:     map[string]*Router{"r": {EntryPoints: []string{"web"}, Rule: s, Service: s, Middlewares: []string{"m"}}},
			Middlewares: map[string]*Middleware{"m": {RedirectRegex: &RedirectRegex{Regex: s, Replacement: s}}},
		}}
		data := encode(t, cfg)
		if bytes.Contains(data, []byte("{{")) {
			t.Errorf("%q: encoding holds {{: %s", s, data)
		}
		back, err := Decode(data)
		if err != nil {
			t.Errorf("%q: %v\n%s", s, err, data)
			continue
		}
		r, m := back.HTTP.Routers["r"], back.HTTP.Middlewares["m"].RedirectRegex
		if r.Rule != s || r.Service != s || m.Regex != s || m.Replacement != s {
			t.Errorf("%q read back as %q, %q, %q, %q\n%s", s, r.Rule, r.Service, m.Regex, m.Replacement, data)
		}
	}
}

// TestEncodeIsJSON checks the encoding is a YAML comment line followed by
// encoding/json's output, with HTML characters unescaped.
func TestEncodeIsJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  *Config
		want string
	}{
		{"nil", nil, "null\n"},
		{"empty", &Config{}, "{}\n"},
		{"empty sections", &Config{HTTP: &HTTPConfig{Routers: map[string]*Router{}}}, `{"http":{}}` + "\n"},
		{"router", &Config{HTTP: &HTTPConfig{Routers: map[string]*Router{"b": {Rule: "Host(`b`) && Path(`/<x>`)"}, "a": {TLS: &RouterTLS{}}}}},
			`{"http":{"routers":{"a":{"tls":{}},"b":{"rule":"Host(` + "`b`) && Path(`/<x>`" + `)"}}}}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.cfg)
			body, ok := bytes.CutPrefix(data, []byte(generatedHeader))
			if !ok || !json.Valid(body) {
				t.Fatalf("not a header line and JSON: %s", data)
			}
			if string(body) != tc.want {
				t.Errorf("got %s, want %s", body, tc.want)
			}
			if _, err := Decode(data); err != nil && tc.name != "empty sections" {
				t.Error(err)
			}
		})
	}
}

func TestFirstToEscape(t *testing.T) {
	long := strings.Repeat("abcdefgh", 5)
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", -1},
		{long, -1},
		{long + "{", -1},
		{long + "{ {}}", -1},
		{long + "{{", 40},
		{"a{{" + long, 1},
		{long + "\x7f", 40},
		{long[:13] + "\x7f" + long, 13},
		{long[:21] + "é" + long, 21},
		{long[:5] + "\x80{{", 5},
		{long[:30] + "{{\x80", 30},
		{"\x7e\x7e\x7e\x7e\x7e\x7e\x7e\x7e\x7f", 8},
	} {
		if got := firstToEscape([]byte(tc.in)); got != tc.want {
			t.Errorf("firstToEscape(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestEncodeThousandAppsDecodes checks the configuration of 1,000 apps
// reads back through paerser unchanged.
func TestEncodeThousandAppsDecodes(t *testing.T) {
	data := encode(t, Generate(snapshot1000Apps()).Config)
	assertRoundTrip(t, data)
}
