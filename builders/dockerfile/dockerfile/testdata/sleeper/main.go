// Command sleeper is a test helper: a static program that prints a line,
// sleeps for the duration given as its argument and prints another, so
// that a RUN step FROM scratch takes a known time.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	d, err := time.ParseDuration(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("sleeper: start")
	time.Sleep(d)
	fmt.Println("sleeper: done")
}
