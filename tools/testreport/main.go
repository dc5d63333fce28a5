// Command testreport reads `go test -json` events on standard input and
// prints what a person needs from a long test run: each package's result
// as it finishes, the whole output of every failing test, and at the end
// the slowest tests and packages, so the suite's wall time can be watched.
// It exits non-zero when a test or package failed, or when the input held
// no result at all.
//
//	go test -json ./... | go run ./tools/testreport -slowest 25
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one test2json record (see `go doc cmd/test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// result is a finished test or package.
type result struct {
	name    string
	elapsed time.Duration
}

// report accumulates the run.
type report struct {
	out      io.Writer
	output   map[string][]string // package/test -> buffered output lines
	tests    []result
	packages []result
	failed   int
	finished int
}

func main() {
	slowest := flag.Int("slowest", 20, "how many of the slowest tests and packages to list")
	flag.Parse()
	r := &report{out: os.Stdout, output: map[string][]string{}}
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	r.summary(*slowest)
	if r.failed > 0 || r.finished == 0 {
		os.Exit(1)
	}
}

// read consumes the event stream; lines that are not JSON (build errors)
// are printed as they are.
func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(r.out, string(line))
			if strings.HasPrefix(string(line), "FAIL") {
				r.failed++
			}
			continue
		}
		r.handle(e)
	}
	return sc.Err()
}

// handle records one event.
func (r *report) handle(e event) {
	key := e.Package + " " + e.Test
	switch e.Action {
	case "output":
		r.output[key] = append(r.output[key], e.Output)
	case "pass", "skip":
		r.done(e, key)
	case "fail":
		r.failed++
		r.printOutput(e, key)
		r.done(e, key)
	}
}

// done records a finished test or package and prints a package's line.
func (r *report) done(e event, key string) {
	d := time.Duration(e.Elapsed * float64(time.Second))
	if e.Test != "" {
		if !strings.Contains(e.Test, "/") {
			r.tests = append(r.tests, result{e.Package + "." + e.Test, d})
		}
		delete(r.output, key)
		return
	}
	r.finished++
	r.packages = append(r.packages, result{e.Package, d})
	if e.Action == "fail" {
		fmt.Fprintf(r.out, "FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
	} else {
		fmt.Fprintf(r.out, "%s\t%s\t%.3fs\n", map[string]string{"pass": "ok", "skip": "ok"}[e.Action], e.Package, e.Elapsed)
	}
	// Tests still running when the package failed (a timeout, a crash)
	// never got their own result: their output explains the failure.
	for k, lines := range r.output {
		if !strings.HasPrefix(k, e.Package+" ") {
			continue
		}
		if e.Action == "fail" && k != key {
			fmt.Fprintf(r.out, "--- unfinished: %s\n", strings.Replace(k, " ", ".", 1))
			for _, l := range lines {
				fmt.Fprint(r.out, "    ", l)
			}
		}
		delete(r.output, k)
	}
}

// printOutput prints the buffered output of a failed test or package.
func (r *report) printOutput(e event, key string) {
	name := e.Package
	if e.Test != "" {
		name += "." + e.Test
	}
	fmt.Fprintf(r.out, "--- FAIL: %s (%.2fs)\n", name, e.Elapsed)
	for _, l := range r.output[key] {
		fmt.Fprint(r.out, "    ", l)
	}
}

// summary lists the slowest tests and packages and the totals.
func (r *report) summary(n int) {
	for _, list := range []struct {
		title string
		items []result
	}{{"slowest packages", r.packages}, {"slowest tests", r.tests}} {
		sort.Slice(list.items, func(i, j int) bool { return list.items[i].elapsed > list.items[j].elapsed })
		fmt.Fprintf(r.out, "== %s\n", list.title)
		for i, it := range list.items {
			if i == n {
				break
			}
			fmt.Fprintf(r.out, "%8.1fs  %s\n", it.elapsed.Seconds(), it.name)
		}
	}
	fmt.Fprintf(r.out, "== %d packages, %d tests, %d failed\n", len(r.packages), len(r.tests), r.failed)
}
