// Command burner is the container berth's metrics tests measure: a static
// binary (for FROM-scratch images) that burns a known share of CPU and
// holds a known amount of memory until it is stopped.
//
//	CPU_MILLICORES=N   use N/1000 of one core's CPU time, in 100 ms periods (default 500)
//	MEM_MB=N           allocate N MiB and keep every page touched (default 64)
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

const period = 100 * time.Millisecond

func main() {
	millicores, err := envInt("CPU_MILLICORES", 500)
	if err != nil {
		fail(err)
	}
	mb, err := envInt("MEM_MB", 64)
	if err != nil {
		fail(err)
	}
	mem := make([]byte, mb<<20)
	touch(mem, 1)
	fmt.Printf("burner: %d millicores, %d MiB\n", millicores, mb)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	busy := time.Duration(min(millicores, 1000)) * period / 1000
	var round byte
	for {
		// Spin until this process used busy CPU time in this period (or
		// the period is over): on a shared machine a wall-clock duty cycle
		// would use less than asked.
		start, used := time.Now(), cpuTime()
		for cpuTime()-used < busy && time.Since(start) < period {
		}
		select {
		case <-stop:
			runtime.KeepAlive(mem)
			return
		case <-time.After(period - time.Since(start)):
		}
		if round++; round%50 == 0 {
			touch(mem, round) // keep the pages resident
		}
	}
}

// cpuTime is the CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// touch writes one byte of every page.
func touch(mem []byte, v byte) {
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = v
	}
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number >= 0", name, v)
	}
	return n, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "burner:", err)
	os.Exit(2)
}
