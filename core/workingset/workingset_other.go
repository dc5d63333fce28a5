//go:build !linux

package workingset

import "time"

// cpuTime is not measured outside Linux: Run never trims there.
func cpuTime() time.Duration { return 0 }

// pageOutExecutable does nothing outside Linux.
func pageOutExecutable() (int64, error) { return 0, nil }
