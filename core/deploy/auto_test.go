package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestAutoOrder(t *testing.T) {
	tests := []struct {
		def  string
		want string
	}{
		{"", "dockerfile railpack nixpacks heroku paketo static"},
		{"railpack", "dockerfile railpack nixpacks heroku paketo static"},
		{"nixpacks", "dockerfile nixpacks railpack heroku paketo static"},
		{"heroku", "dockerfile heroku railpack nixpacks paketo static"},
		{"static", "dockerfile static railpack nixpacks heroku paketo"},
		{"mybuilder", "dockerfile mybuilder railpack nixpacks heroku paketo static"},
		{"dockerfile", "dockerfile railpack nixpacks heroku paketo static"},
		{"auto", "dockerfile railpack nixpacks heroku paketo static"},
	}
	for _, tt := range tests {
		if got := strings.Join(AutoOrder(tt.def), " "); got != tt.want {
			t.Errorf("AutoOrder(%q) = %s, want %s", tt.def, got, tt.want)
		}
	}
}

func TestAutoChoice(t *testing.T) {
	// answers says what each builder answers: "yes: reason", "no: reason"
	// or "missing" (not installed).
	type answers map[string]string
	tests := []struct {
		name    string
		def     string
		answers answers
		// chosen is the builder id, "" when none.
		chosen string
		line   string
		asked  string
		err    string
	}{
		{
			name:    "a Dockerfile wins over everything",
			answers: answers{"dockerfile": "yes: found a Dockerfile", "railpack": "yes: package.json"},
			chosen:  "builder.dockerfile", line: "auto: chose builder.dockerfile — found a Dockerfile", asked: "dockerfile",
		},
		{
			name:    "the default builder comes next",
			def:     "heroku",
			answers: answers{"dockerfile": "no: no Dockerfile", "heroku": "yes: Procfile found", "railpack": "yes: package.json"},
			chosen:  "builder.heroku", line: "auto: chose builder.heroku — Procfile found; builder.dockerfile: no Dockerfile", asked: "dockerfile heroku",
		},
		{
			name:    "a default that is not installed is skipped",
			answers: answers{"dockerfile": "no: no Dockerfile", "railpack": "missing", "nixpacks": "yes: nixpacks detected node"},
			chosen:  "builder.nixpacks", line: "auto: chose builder.nixpacks — nixpacks detected node; builder.dockerfile: no Dockerfile; builder.railpack: not installed",
			asked: "dockerfile railpack nixpacks",
		},
		{
			name: "then the documented order, static last",
			answers: answers{"dockerfile": "no: no Dockerfile", "railpack": "no: nothing", "nixpacks": "no: nothing", "heroku": "missing",
				"paketo": "missing", "static": "yes: found index.html"},
			chosen: "builder.static", asked: "dockerfile railpack nixpacks heroku paketo static",
			line: "auto: chose builder.static — found index.html; builder.dockerfile: no Dockerfile; builder.railpack: nothing; builder.nixpacks: nothing; builder.heroku: not installed; builder.paketo: not installed",
		},
		{
			name:    "nothing detects",
			answers: answers{"dockerfile": "no: no Dockerfile", "static": "no: no index.html"},
			asked:   "dockerfile railpack nixpacks heroku paketo static",
			err:     "auto: no builder can build this repository (add a Dockerfile or choose a build type): builder.dockerfile: no Dockerfile; builder.railpack: not installed; builder.nixpacks: not installed; builder.heroku: not installed; builder.paketo: not installed; builder.static: no index.html",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			ask := func(_ context.Context, id string) detection {
				name := strings.TrimPrefix(id, "builder.")
				asked = append(asked, name)
				a, ok := tt.answers[name]
				if !ok || a == "missing" {
					return detection{id: id, reason: "not installed"}
				}
				verdict, reason, _ := strings.Cut(a, ": ")
				return detection{id: id, installed: true, detected: verdict == "yes", reason: reason}
			}
			chosen, got, err := choose(t.Context(), AutoOrder(tt.def), ask)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(asked, " ") != tt.asked {
				t.Errorf("asked %v, want %s", asked, tt.asked)
			}
			line, reason, err := autoDecision(chosen, got)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("error = %v\nwant    %s", err, tt.err)
				}
				return
			}
			if err != nil || got[chosen].id != tt.chosen || line != tt.line {
				t.Errorf("chose %s (%v)\nline %q\nwant %s, %q", got[chosen].id, err, line, tt.chosen, tt.line)
			}
			if !strings.HasSuffix(strings.SplitN(line, ";", 2)[0], reason) {
				t.Errorf("reason %q is not the chosen builder's", reason)
			}
		})
	}
}

func TestAutoChoiceStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var asked []string
	_, _, err := choose(ctx, AutoOrder(""), func(_ context.Context, id string) detection {
		asked = append(asked, id)
		cancel()
		return detection{id: id, reason: "no"}
	})
	if !errors.Is(err, context.Canceled) || !slices.Equal(asked, []string{"builder.dockerfile"}) {
		t.Errorf("choose = %v after asking %v, want context.Canceled after the first", err, asked)
	}
}
