// Package workingset keeps an idle berth server's resident memory to what
// it uses while idle.
//
// Most of a Go server's resident set is not its heap but the pages of its
// own executable: start-up and every burst of work (a deployment, a
// backup) touch code and tables across the whole binary, and the kernel
// maps each of those pages, and its neighbours, into the process for good.
// They are clean pages of the page cache, but they count in the process's
// resident set as long as they stay mapped. When the server turns idle
// after having been busy, Run hands them back (madvise MADV_PAGEOUT on the
// executable's mappings) together with the heap the garbage collector
// freed; the few pages idle work needs fault back in from the page cache
// or the disk.
package workingset

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"
)

// Options tune when Run trims. Zero values take the defaults.
type Options struct {
	// Check is how often the process's CPU time is read (default 2 s).
	Check time.Duration
	// Quiet is how long the server must stay below IdleCPU to be idle
	// (default 10 s).
	Quiet time.Duration
	// IdleCPU is the share of one core, per check, below which the server
	// counts as idle (default 0.1, 10 %).
	IdleCPU float64
	// Logger receives one debug line per trim; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Check <= 0 {
		o.Check = 2 * time.Second
	}
	if o.Quiet <= 0 {
		o.Quiet = 10 * time.Second
	}
	if o.IdleCPU <= 0 {
		o.IdleCPU = 0.1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run trims the working set each time the server turns idle: once every
// check for Quiet used less than IdleCPU of one core, after start-up or
// after a busier check since the last trim. It returns when ctx
// ends.
func Run(ctx context.Context, o Options) {
	o = o.withDefaults()
	t := time.NewTicker(o.Check)
	defer t.Stop()
	w := newIdleWatch(o.Quiet, o.IdleCPU, time.Now(), cpuTime())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if !w.observe(now, cpuTime()) {
				continue
			}
			start := time.Now()
			pages, err := Trim()
			o.Logger.Debug("trimmed the working set", "executable_bytes", pages, "took", time.Since(start), "err", err)
			// The trim's own CPU time is not work to trim after.
			w.restart(time.Now(), cpuTime())
		}
	}
}

// Trim returns the executable's mapped pages and the heap the garbage
// collector freed to the kernel, and reports the bytes of executable
// mappings it advised.
func Trim() (int64, error) {
	n, err := pageOutExecutable()
	debug.FreeOSMemory()
	return n, err
}

// idleWatch decides, from successive CPU time readings, when the process
// has just turned idle: every check of the last quiet period used less
// than idleCPU, after a busier check (or since start-up). Short periodic
// work (a metrics round of 100 containers: ~0.1 s every 15 s) stays below
// idleCPU and does not count as a burst to trim after.
type idleWatch struct {
	quiet   time.Duration
	idleCPU float64
	// lastAt and lastCPU are the previous reading.
	lastAt  time.Time
	lastCPU time.Duration
	// quietSince is when the process last went below idleCPU.
	quietSince time.Time
	// armed is true once the process was busy (or just started) since the
	// last trim.
	armed bool
}

func newIdleWatch(quiet time.Duration, idleCPU float64, now time.Time, cpu time.Duration) *idleWatch {
	return &idleWatch{quiet: quiet, idleCPU: idleCPU, lastAt: now, lastCPU: cpu, quietSince: now, armed: true}
}

// restart takes a new reading without judging it: the CPU time since the
// previous one (a trim's own) is not work to trim after.
func (w *idleWatch) restart(now time.Time, cpu time.Duration) {
	w.lastAt, w.lastCPU = now, cpu
}

// observe takes a reading and reports whether to trim now.
func (w *idleWatch) observe(now time.Time, cpu time.Duration) bool {
	elapsed := now.Sub(w.lastAt)
	used := cpu - w.lastCPU
	w.lastAt, w.lastCPU = now, cpu
	if elapsed <= 0 {
		return false
	}
	if float64(used)/float64(elapsed) >= w.idleCPU {
		w.quietSince = now
		w.armed = true
		return false
	}
	if w.armed && now.Sub(w.quietSince) >= w.quiet {
		w.armed = false
		return true
	}
	return false
}
