package nixpacks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// killGrace is how long a run waits for the output of a killed nixpacks
// process (and anything it started) to close.
const killGrace = time.Second

// tool is one nixpacks invocation: argv only, never a shell.
type tool struct {
	bin  string
	args []string
	// env is the process's whole environment.
	env []string
	dir string
	// stdout, when set, receives standard output instead of the log.
	stdout io.Writer
	log    sdk.LogFunc
	// redact hides secret values in logged lines.
	redact func(string) string
}

// toolError is a nixpacks run that failed: its exit status and the last
// lines it wrote to standard error.
type toolError struct {
	what   string
	status error
	tail   []string
}

func (e *toolError) Error() string {
	msg := fmt.Sprintf("%s failed (%v)", e.what, e.status)
	if len(e.tail) > 0 {
		msg += ": " + strings.Join(e.tail, " / ")
	}
	return msg
}

// maxTail is how many lines of standard error an error keeps.
const maxTail = 5

// run starts the process in its own process group, streams its output line
// by line, and waits. Cancelling ctx kills the whole group at once.
func (t tool) run(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, t.bin, t.args...)
	cmd.Env, cmd.Dir = t.env, t.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = killGrace
	redact := t.redact
	if redact == nil {
		redact = func(s string) string { return s }
	}
	errw := &lineWriter{stream: sdk.LogStderr, log: t.log, redact: redact}
	cmd.Stderr = errw
	var outw *lineWriter
	if t.stdout != nil {
		cmd.Stdout = t.stdout
	} else {
		outw = &lineWriter{stream: sdk.LogStdout, log: t.log, redact: redact}
		cmd.Stdout = outw
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	err := cmd.Wait()
	errw.flush()
	if outw != nil {
		outw.flush()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return &toolError{what: what, status: err, tail: errw.lastLines()}
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// baseEnv is the environment every nixpacks process gets: the plugin's own
// PATH, HOME and TMPDIR (berth gives plugins nothing else).
func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// lineWriter sends what a process writes to the log, line by line, and
// keeps the last lines.
type lineWriter struct {
	stream  sdk.LogStream
	log     sdk.LogFunc
	redact  func(string) string
	mu      sync.Mutex
	partial []byte
	tail    []string
}

// maxLine bounds a line kept waiting for its end.
const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > maxLine {
		w.emit(string(w.partial))
		w.partial = nil
	}
	return len(p), nil
}

// emit logs one line; the caller holds mu.
func (w *lineWriter) emit(line string) {
	line = w.redact(strings.TrimRight(line, "\r"))
	if strings.TrimSpace(line) == "" {
		return
	}
	w.log.Line(w.stream, line)
	if w.tail = append(w.tail, strings.TrimSpace(line)); len(w.tail) > maxTail {
		w.tail = w.tail[1:]
	}
}

// flush logs an unfinished last line.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) > 0 {
		w.emit(string(w.partial))
		w.partial = nil
	}
}

// lastLines returns the last lines written.
func (w *lineWriter) lastLines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.tail...)
}
