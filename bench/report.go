package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/test/loadgen"
)

// figure is one measured value printed next to its goal.
type figure struct {
	name, value, goal string
	// ok is false when a goal was set and missed.
	ok bool
}

// report prints figures as they are measured and keeps them for callers
// (the smoke test) that check them.
type report struct {
	mu      sync.Mutex
	out     io.Writer
	figures []figure
}

// section prints a heading.
func (r *report) section(title string) {
	fmt.Fprintf(r.out, "\n== %s\n", title)
}

// note prints an indented line of detail under the current section.
func (r *report) note(format string, args ...any) {
	fmt.Fprintf(r.out, "   "+format+"\n", args...)
}

// row records and prints a figure; goal "-" means no goal.
func (r *report) row(name, value, goal string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := figure{name: name, value: value, goal: goal, ok: ok || goal == "-"}
	r.figures = append(r.figures, f)
	mark := "ok"
	switch {
	case goal == "-":
		mark = ""
	case !f.ok:
		mark = "MISSED"
	}
	fmt.Fprintf(r.out, "%-58s %16s   goal %-10s %s\n", name, value, goal, mark)
}

// missed lists the figures whose goal was missed.
func (r *report) missed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.figures {
		if !f.ok {
			out = append(out, f.name+" = "+f.value+" (goal "+f.goal+")")
		}
	}
	return out
}

// find returns the figure whose name starts with prefix.
func (r *report) find(prefix string) (figure, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.figures {
		if strings.HasPrefix(f.name, prefix) {
			return f, true
		}
	}
	return figure{}, false
}

// percentile returns the p-th percentile (0-100, nearest rank) of ds, which
// it sorts; zero when ds is empty.
func percentile(ds []time.Duration, p float64) time.Duration { return loadgen.Percentile(ds, p) }

// ms formats d in milliseconds with a precision fit for its size.
func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/1e6)
}

// mib formats a size in MiB.
func mib(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }
