package cli

import (
	"bufio"
	"io"
	"strings"
)

// readEvents reads a server-sent event stream (one "event:" and one "data:"
// line per event, as berth's API writes them) and calls fn with each
// event's name and data until the stream ends or fn returns true.
func readEvents(r io.Reader, fn func(event, data string) (stop bool)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "":
			if event != "" || data != "" {
				if fn(event, data) {
					return nil
				}
			}
			event, data = "", ""
		}
	}
	return sc.Err()
}
