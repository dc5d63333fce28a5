package sdk_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEExamples compiles and vets every Go program of README.md, and
// runs the README's test file against the README's notifier (the first
// program), so the documentation cannot drift from the SDK.
func TestREADMEExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's programs")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("testdata", "readme-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.RemoveAll(base)
		os.Remove("testdata") // only when empty
	})
	var programs []string
	var tests int
	for i, b := range blocks {
		code := b[1]
		if !strings.HasPrefix(code, "package main") {
			continue
		}
		if strings.Contains(code, "\"testing\"") {
			if len(programs) == 0 {
				t.Fatalf("README block %d: a test before any program", i)
			}
			if err := os.WriteFile(filepath.Join(programs[0], "main_test.go"), []byte(code), 0o644); err != nil {
				t.Fatal(err)
			}
			tests++
			continue
		}
		dir := filepath.Join(base, "example"+string(rune('a'+len(programs))))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644); err != nil {
			t.Fatal(err)
		}
		programs = append(programs, dir)
	}
	if len(programs) != 4 || tests != 1 {
		t.Fatalf("README has %d programs and %d tests, want one program per kind and one test", len(programs), tests)
	}
	for _, dir := range programs {
		if out, err := exec.Command("go", "vet", "./"+dir).CombinedOutput(); err != nil {
			t.Errorf("README program %s does not vet: %v\n%s", dir, err, out)
		}
		if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("README program %s is not gofmt-formatted: %s %v", dir, out, err)
		}
	}
	if out, err := exec.Command("go", "test", "-count=1", "./"+programs[0]).CombinedOutput(); err != nil {
		t.Errorf("the README's test fails on the README's notifier: %v\n%s", err, out)
	}
}
