package gitclient

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// waitDelay bounds how long a cancelled git may keep its output pipes open.
const waitDelay = 3 * time.Second

// onStart, when set (by tests), is called with the pid of every git started.
var onStart func(pid int)

// gitError is a failed git command with the end of its (scrubbed) error
// output. It wraps the process error and, when the output says so, one of
// the sdk errors (ErrNotFound, ErrUnauthenticated, ErrUnavailable).
type gitError struct {
	cmd    string
	err    error
	kind   error
	stderr string
}

// Error names the git command, its exit status and its last output lines.
func (e *gitError) Error() string {
	msg := fmt.Sprintf("git %s: %v", e.cmd, e.err)
	if e.stderr != "" {
		msg += ": " + e.stderr
	}
	if e.kind != nil {
		msg += " (" + e.kind.Error() + ")"
	}
	return msg
}

// Unwrap exposes the process error and the sdk error kind.
func (e *gitError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.err, e.kind}
}

// classify maps git's (LC_ALL=C) error output to an sdk error, or nil.
func classify(stderr string) error {
	s := strings.ToLower(stderr)
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case has("authentication failed", "could not read username", "could not read password",
		"permission denied (publickey", "permission denied, please try again", "the requested url returned error: 401",
		"the requested url returned error: 403", "host key verification failed", "invalid username or password"):
		return sdk.ErrUnauthenticated
	case has("repository not found", "does not appear to be a git repository", "not found",
		"the requested url returned error: 404", "no such file or directory", "not a git repository"):
		return sdk.ErrNotFound
	case has("could not resolve host", "failed to connect", "couldn't connect", "connection refused",
		"connection timed out", "operation timed out", "network is unreachable", "could not read from remote repository",
		"the remote end hung up", "the requested url returned error: 5", "unable to access"):
		return sdk.ErrUnavailable
	}
	return nil
}

// run runs git with args as an argument list (never through a shell) in
// dir with env as its whole environment. Its stderr is scrubbed of
// secrets and sent to log line by line; its stdout is returned. When ctx
// ends, git and every process it started are killed.
func run(ctx context.Context, dir string, env []string, scrub *scrubber, log sdk.LogFunc, args ...string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = waitDelay
	killGroupOnCancel(cmd)
	var stdout bytes.Buffer
	stderr := &lineWriter{log: log, scrub: scrub}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting git %s: %w", args[0], err)
	}
	if onStart != nil {
		onStart(cmd.Process.Pid)
	}
	err := cmd.Wait()
	stderr.flush()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", fmt.Errorf("git %s: %w", args[0], ctxErr)
	}
	if err != nil {
		tail := stderr.tail()
		return "", &gitError{cmd: args[0], err: err, kind: classify(tail), stderr: tail}
	}
	return stdout.String(), nil
}

// lineWriter splits git's stderr into lines at \n and \r, scrubs them, sends
// them to a log and keeps the last few for error messages. Progress lines
// (ending in \r) are sent at most twice a second.
type lineWriter struct {
	log   sdk.LogFunc
	scrub *scrubber

	mu           sync.Mutex
	buf          []byte
	lines        []string
	lastProgress time.Time
}

// Write implements io.Writer.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexAny(w.buf, "\r\n")
		if i < 0 {
			return len(p), nil
		}
		w.emit(string(w.buf[:i]), w.buf[i] == '\r')
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) emit(line string, progress bool) {
	line = strings.TrimSpace(w.scrub.apply(line))
	if line == "" {
		return
	}
	if progress {
		if time.Since(w.lastProgress) < 500*time.Millisecond && !strings.Contains(line, "done") {
			return
		}
		w.lastProgress = time.Now()
	} else {
		w.lines = append(w.lines, line)
		if len(w.lines) > 6 {
			w.lines = w.lines[1:]
		}
	}
	w.log.Line(sdk.LogStderr, line)
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit(string(w.buf), false)
	w.buf = nil
}

func (w *lineWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, " | ")
}

// scrubber removes secrets from text shown to people: known secret values
// and any password in a URL.
type scrubber struct {
	secrets []string
}

// newScrubber returns a scrubber for the non-empty secrets.
func newScrubber(secrets ...string) *scrubber {
	s := &scrubber{}
	for _, v := range secrets {
		if v != "" {
			s.secrets = append(s.secrets, v)
		}
	}
	return s
}

// apply returns text with every secret replaced by "***".
func (s *scrubber) apply(text string) string {
	if s != nil {
		for _, v := range s.secrets {
			text = strings.ReplaceAll(text, v, "***")
		}
	}
	return redactURL(text)
}

// environment is the whole environment of the git processes of one call.
// Only PATH, TMPDIR and proxy settings come from the plugin's environment.
func environment(home string, extra ...string) []string {
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + home + "/.config",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GCM_INTERACTIVE=never",
		"LC_ALL=C",
	}
	for _, k := range []string{"PATH", "TMPDIR", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}
