package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantFailed int
		want       []string
		notWant    []string
	}{
		{"passing package hides output", `{"Action":"output","Package":"p","Test":"TestA","Output":"noise\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":2.5}
{"Action":"pass","Package":"p","Elapsed":3}`, 0, []string{"ok\tp\t3.000s", "2.5s  p.TestA"}, []string{"noise"}},
		{"failing test shows its output", `{"Action":"output","Package":"p","Test":"TestB","Output":"want 1, got 2\n"}
{"Action":"fail","Package":"p","Test":"TestB","Elapsed":1}
{"Action":"fail","Package":"p","Elapsed":1}`, 2, []string{"--- FAIL: p.TestB", "want 1, got 2", "FAIL\tp"}, nil},
		{"timeout shows the unfinished test", `{"Action":"output","Package":"p","Test":"TestSlow","Output":"waiting for deploy\n"}
{"Action":"output","Package":"p","Output":"panic: test timed out after 50m0s\n"}
{"Action":"fail","Package":"p","Elapsed":3000}`, 1, []string{"panic: test timed out", "--- unfinished: p.TestSlow", "waiting for deploy"}, nil},
		{"build errors pass through", "# p\n./x.go:1: syntax error\nFAIL\tp [build failed]", 1, []string{"syntax error"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &report{out: &out, output: map[string][]string{}}
			if err := r.read(strings.NewReader(tt.in)); err != nil {
				t.Fatal(err)
			}
			r.summary(5)
			if r.failed != tt.wantFailed {
				t.Errorf("failed = %d, want %d", r.failed, tt.wantFailed)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
		})
	}
}
