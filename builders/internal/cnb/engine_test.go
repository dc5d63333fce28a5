package cnb

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestFailureLines(t *testing.T) {
	tests := []struct {
		name           string
		stdout, stderr []string
		want           []string
	}{
		{"buildpack error then lifecycle error",
			[]string{"===> BUILDING"},
			[]string{"Warning: no SBOM", "a", "b", "c", "deps: lock is corrupt", "ERROR: failed to build: exit status 1"},
			[]string{"b", "c", "deps: lock is corrupt", "ERROR: failed to build: exit status 1"}},
		{"detection", nil,
			[]string{"ERROR: No buildpack groups passed detection.", "ERROR: failed to detect: no buildpacks participating"},
			[]string{"ERROR: No buildpack groups passed detection.", "ERROR: failed to detect: no buildpacks participating"}},
		{"nothing on stderr", []string{"x", "y", "z", "last"}, nil, []string{"y", "z", "last"}},
	}
	for _, tt := range tests {
		if got := failureLines(tt.stdout, tt.stderr); !slices.Equal(got, tt.want) {
			t.Errorf("%s: failureLines = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLineLog(t *testing.T) {
	var got []string
	l := newLineLog(func(line sdk.LogLine) { got = append(got, line.Text) }, sdk.LogStdout)
	for _, chunk := range []string{"one\ntw", "o\r\n", "\nthree"} {
		l.Write([]byte(chunk))
	}
	l.flush()
	if want := []string{"one", "two", "", "three"}; !slices.Equal(got, want) || !slices.Equal(l.all(), want) {
		t.Errorf("lines %q (kept %q), want %q", got, l.all(), want)
	}
}
