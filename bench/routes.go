package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// routePropagation adds domains to the web application one at a time and
// times each API call to the first successful answer through Traefik.
func (b *bench) routePropagation(ctx context.Context, w *webApp, message string) error {
	n := b.cfg.routeSamples
	b.r.section(fmt.Sprintf("route propagation: %d domains added through the API → first 200 through Traefik", n))
	samples, err := b.addDomains(ctx, w, "route", n, message)
	if err != nil {
		return err
	}
	b.r.note("samples: %s", durations(samples))
	b.r.row("domain added → answering p50", ms(percentile(samples, 50)), "-", true)
	b.r.row("domain added → answering p95", ms(percentile(samples, 95)), "<= 1 s", percentile(samples, 95) <= time.Second)
	return nil
}

// addDomains adds n domains <prefix><i>.bench.test to w and returns, for
// each, the time from the API call to the first answer carrying message.
func (b *bench) addDomains(ctx context.Context, w *webApp, prefix string, n int, message string) ([]time.Duration, error) {
	p := newProbe(b.in.HTTPPort)
	var out []time.Duration
	for i := range n {
		host := fmt.Sprintf("%s%d-%d.bench.test", prefix, i, time.Now().UnixNano()%1e6)
		t0 := time.Now()
		if _, err := b.in.api.domain(ctx, w.id, map[string]any{"host": host}); err != nil {
			return nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		at, err := p.until(pctx, host, message+" ", 5*time.Millisecond)
		cancel()
		if err != nil {
			return nil, err
		}
		out = append(out, at.Sub(t0))
	}
	return out, nil
}

// applyAtScale adds domains to w while Traefik routes every other domain
// too, and times the publication of the configuration file to the first
// answer (Traefik's own apply time), and the API call to the answer.
func (b *bench) applyAtScale(ctx context.Context, w *webApp, message string) error {
	p := newProbe(b.in.HTTPPort)
	var fromAPI, fromPublish []time.Duration
	for i := range b.cfg.applySamples {
		before, err := os.Stat(b.in.dynamicConfig)
		if err != nil {
			return fmt.Errorf("dynamic config: %w", err)
		}
		host := fmt.Sprintf("scale-apply%d-%d.bench.test", i, time.Now().UnixNano()%1e6)
		published := make(chan time.Time, 1)
		wctx, stopWatch := context.WithCancel(ctx)
		go watchFile(wctx, b.in.dynamicConfig, before.ModTime(), published)
		t0 := time.Now()
		if _, err := b.in.api.domain(ctx, w.id, map[string]any{"host": host}); err != nil {
			stopWatch()
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		at, err := p.until(pctx, host, message+" ", 5*time.Millisecond)
		cancel()
		stopWatch()
		if err != nil {
			return err
		}
		fromAPI = append(fromAPI, at.Sub(t0))
		select {
		case pub := <-published:
			fromPublish = append(fromPublish, at.Sub(pub))
		default:
		}
	}
	b.r.note("API → answering samples: %s", durations(fromAPI))
	b.r.row("Traefik applies a change: file published → answering p50", ms(percentile(fromPublish, 50)), "-", true)
	b.r.row("Traefik applies a change: file published → answering max", ms(percentile(fromPublish, 100)), "-", true)
	b.r.row("domain added → answering at this size p50", ms(percentile(fromAPI, 50)), "-", true)
	return nil
}

// watchFile sends the first time path's modification time differs from
// since, checking every millisecond.
func watchFile(ctx context.Context, path string, since time.Time, out chan<- time.Time) {
	for {
		if st, err := os.Stat(path); err == nil && !st.ModTime().Equal(since) {
			out <- time.Now()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}
