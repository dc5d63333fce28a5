package plugins_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

// reportPercentiles reports the p50 and p99 of d in milliseconds.
func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	ms := func(q float64) float64 { return float64(d[int(q*float64(len(d)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkColdStart measures a plugin's start on first use: checksum,
// process start, mutual TLS handshake, protocol negotiation, the identity
// check and the first call. Goal: p50 <= 100 ms.
func BenchmarkColdStart(b *testing.B) {
	h := newHost(b, plugins.Options{IdleTimeout: -1}, "probe")
	ctx := context.Background()
	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		b.StopTimer()
		if err := h.Stop(ctx, "notifier.probe"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		n, err := h.Notifier(ctx, "notifier.probe")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := n.Send(ctx, &sdk.SendRequest{}); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	reportPercentiles(b, durations)
}

// BenchmarkWarmCall measures the round trip of a call to a running plugin
// (a notifier's Send with a typed event). Goal: p50 <= 0.3 ms.
func BenchmarkWarmCall(b *testing.B) {
	h := newHost(b, plugins.Options{IdleTimeout: -1}, "probe")
	ctx := context.Background()
	n, err := h.Notifier(ctx, "notifier.probe")
	if err != nil {
		b.Fatal(err)
	}
	req := &sdk.SendRequest{Event: sdk.Event{ID: "e1", Type: sdk.EventDeploySucceeded, Title: "deployed", Deploy: &sdk.DeployDetails{Commit: "abc"}}}
	if _, err := n.Send(ctx, req); err != nil {
		b.Fatal(err)
	}
	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := n.Send(ctx, req); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	reportPercentiles(b, durations)
}
