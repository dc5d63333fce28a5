package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// plugins runs the plugin host's benchmarks (go test -bench ./plugins/)
// and prints their p50 next to the goals their doc comments state.
func (b *bench) plugins() error {
	b.r.section("plugins: cold start and warm call (go test -run '^$' -bench . -benchtime 2s ./plugins/)")
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchtime", "2s", "./plugins/")
	cmd.Dir = b.cfg.repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("plugin benchmarks: %w\n%s", err, out)
	}
	goals := map[string]struct {
		label string
		goal  time.Duration
	}{
		"BenchmarkColdStart": {"plugin cold start (checksum, start, mTLS, first call) p50", 100 * time.Millisecond},
		"BenchmarkWarmCall":  {"plugin warm call p50", 300 * time.Microsecond},
	}
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "-")
		g, ok := goals[name]
		if !ok {
			continue
		}
		for i := 1; i+1 < len(f); i++ {
			if f[i+1] != "p50-ms" {
				continue
			}
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("plugin benchmarks: %q: %w", sc.Text(), err)
			}
			d := time.Duration(v * float64(time.Millisecond))
			b.r.row(g.label, ms(d), "<= "+ms(g.goal), d <= g.goal)
			found++
		}
	}
	if found != len(goals) {
		return fmt.Errorf("plugin benchmarks: found %d of %d figures in:\n%s", found, len(goals), out)
	}
	return nil
}
