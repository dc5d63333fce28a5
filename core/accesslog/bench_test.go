package accesslog

import (
	"testing"

	"github.com/google/uuid"
)

// BenchmarkParseAndAdd measures the follower's work per access line.
func BenchmarkParseAndAdd(b *testing.B) {
	a := NewAggregator()
	a.MaxRecent = 1 << 30
	app := uuid.New()
	line := []byte(accessLine)
	b.ReportAllocs()
	for b.Loop() {
		e, err := Parse(line)
		if err != nil {
			b.Fatal(err)
		}
		a.Add(app, "shop.example.com", e)
		if a.Len() >= 2000 {
			a.Take()
		}
	}
}
