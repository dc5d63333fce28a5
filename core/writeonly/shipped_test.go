package writeonly

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// secretName matches property names that hold secrets.
var secretName = regexp.MustCompile(`(?i)(password|secret|token|private_key|api_key|passphrase)`)

// typed is a schema node with its type (a plain string in the shipped
// schemas).
type typed struct {
	Type       any               `json:"type"`
	WriteOnly  bool              `json:"writeOnly"`
	Properties map[string]*typed `json:"properties"`
}

// TestShippedPluginsMarkTheirSecrets checks every property of the shipped
// plugins' settings schemas (plugin-index.json, generated from the
// binaries) whose name says it holds a secret is writeOnly, so it is never
// sent back.
func TestShippedPluginsMarkTheirSecrets(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "plugin-index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index struct {
		Plugins []struct {
			ID           string          `json:"id"`
			ConfigSchema json.RawMessage `json:"config_schema"`
			AppSchema    json.RawMessage `json:"app_schema"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Plugins) == 0 {
		t.Fatal("plugin-index.json lists no plugins")
	}
	secrets := 0
	var walk func(id, path string, n *typed)
	walk = func(id, path string, n *typed) {
		for name, p := range n.Properties {
			if secretName.MatchString(name) && p.Type != "boolean" { // a switch is not a secret
				if !p.WriteOnly {
					t.Errorf("%s: settings property %s%s holds a secret but is not writeOnly", id, path, name)
				}
				secrets++
			}
			walk(id, path+name+".", p)
		}
	}
	for _, p := range index.Plugins {
		for _, schema := range []json.RawMessage{p.ConfigSchema, p.AppSchema} {
			var n typed
			if len(schema) > 0 {
				if err := json.Unmarshal(schema, &n); err != nil {
					t.Fatalf("%s: %v", p.ID, err)
				}
				walk(p.ID, "", &n)
			}
		}
	}
	if secrets == 0 {
		t.Fatal("no secret property found: backup.s3's secret_access_key should be")
	}
}
