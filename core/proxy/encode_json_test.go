package proxy

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestEncodeJSONDecodesToSameConfig checks that paerser reads the JSON
// encoding of golden, 1,000-app and random configurations as it reads
// their YAML encoding.
func TestEncodeJSONDecodesToSameConfig(t *testing.T) {
	check := func(t *testing.T, cfg *Config) {
		t.Helper()
		for _, indent := range []string{"", "  "} {
			data, err := encodeJSON(cfg, indent)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(data)
			yml, yerr := Decode(encode(t, cfg))
			switch {
			case err != nil && yerr == nil:
				t.Fatalf("JSON refused: %v\n%s", err, data)
			case err != nil, yerr != nil, bytes.Contains(data, []byte(`"<<"`)):
				// Both refused, or YAML read a plain << key as a merge key.
			case !reflect.DeepEqual(back, yml):
				t.Fatalf("JSON and YAML decode differently\n%s", data)
			}
		}
	}
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) { check(t, Generate(tc.snap).Config) })
	}
	t.Run("1000 apps", func(t *testing.T) { check(t, Generate(snapshot1000Apps()).Config) })
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		check(t, randomConfig(rng))
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
