// Command talker is the application runtimelog's tests run: a static
// binary that writes known lines to stdout and stderr, then keeps talking.
//
//	LINES=N        at start, write "out <slot> <i>" to stdout and
//	               "err <slot> <i>" to stderr, alternating, for i = 1..N (default 5)
//	SLOT=TEXT      the <slot> in every line (a Swarm template: {{.Task.Slot}})
//	TICK=DURATION  then write "tick <slot> <n>" to stdout that often (default 0: never)
//	PORT=N         also answer HTTP on that port, writing "request <path>" to stdout
//	LONG=N         then write one stdout line of N "x"
//
// It runs until it is stopped.
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	slot := os.Getenv("SLOT")
	n := 5
	if v := os.Getenv("LINES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	// Docker stamps a line when it reads it from the container's stdout or
	// stderr pipe, and starts reading just after the process starts:
	// pauses keep the two streams' stamps in the order written.
	const pause = 20 * time.Millisecond
	time.Sleep(10 * pause)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(os.Stdout, "out %s %d\n", slot, i)
		time.Sleep(pause)
		fmt.Fprintf(os.Stderr, "err %s %d\n", slot, i)
		time.Sleep(pause)
	}
	if long, _ := strconv.Atoi(os.Getenv("LONG")); long > 0 {
		fmt.Fprintln(os.Stdout, strings.Repeat("x", long))
	}
	if port := os.Getenv("PORT"); port != "" {
		go func() {
			err := http.ListenAndServe(":"+port, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(os.Stdout, "request %s\n", r.URL.Path)
				fmt.Fprintf(w, "talker %s\n", r.URL.Path)
			}))
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}()
	}
	tick, _ := time.ParseDuration(os.Getenv("TICK"))
	if tick <= 0 {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		<-stop
		return
	}
	for i := 1; ; i++ {
		time.Sleep(tick)
		fmt.Fprintf(os.Stdout, "tick %s %d\n", slot, i)
	}
}
