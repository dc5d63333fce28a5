package plugins

import (
	"bytes"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// fixedNameLogger keeps the name it was given: go-plugin names the logger it
// re-logs plugin stderr with after the binary's file name, and berth wants
// those lines under the plugin's id instead.
type fixedNameLogger struct{ hclog.Logger }

// Named returns the logger unchanged.
func (l fixedNameLogger) Named(string) hclog.Logger { return l }

// ResetNamed returns the logger unchanged.
func (l fixedNameLogger) ResetNamed(string) hclog.Logger { return l }

// With keeps the fixed name on derived loggers.
func (l fixedNameLogger) With(args ...any) hclog.Logger {
	return fixedNameLogger{l.Logger.With(args...)}
}

// lineLogger is an io.Writer that logs each complete line at a level. It
// receives what a plugin writes to its os.Stdout or os.Stderr after start
// (go-plugin forwards both over gRPC).
type lineLogger struct {
	log   hclog.Logger
	level hclog.Level
	msg   string
	mu    sync.Mutex
	buf   []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > 64<<10 { // a very long line: log what we have
				w.log.Log(w.level, w.msg, "line", string(w.buf))
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		if line := bytes.TrimSpace(w.buf[:i]); len(line) > 0 {
			w.log.Log(w.level, w.msg, "line", string(line))
		}
		w.buf = w.buf[i+1:]
	}
}
