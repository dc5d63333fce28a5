package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/berth-dev/berth/sdk"
)

// runGit runs the system git with args as an argument list (never through
// a shell) in dir, with extra environment variables. Its stderr goes to log
// line by line; stdout is returned.
func runGit(ctx context.Context, dir string, env []string, log sdk.LogFunc, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"GIT_TERMINAL_PROMPT=0", "LC_ALL=C"}, env...)...)
	var stdout bytes.Buffer
	stderr := &lineWriter{log: log}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	err := cmd.Run()
	stderr.flush()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", fmt.Errorf("git %s: %w", args[0], ctxErr)
	}
	if err != nil {
		return "", &gitError{cmd: args[0], err: err, stderr: stderr.tail()}
	}
	return stdout.String(), nil
}

// gitError is a failed git command with the end of its error output.
type gitError struct {
	cmd    string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	return fmt.Sprintf("git %s: %v: %s", e.cmd, e.err, e.stderr)
}

func (e *gitError) Unwrap() error { return e.err }

// lineWriter splits git's stderr into lines at \n and \r (progress output)
// and keeps the last few for error messages.
type lineWriter struct {
	log   sdk.LogFunc
	mu    sync.Mutex
	buf   []byte
	lines []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexAny(w.buf, "\r\n")
		if i < 0 {
			return len(p), nil
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) emit(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	w.log.Line(sdk.LogStderr, line)
	w.lines = append(w.lines, line)
	if len(w.lines) > 5 {
		w.lines = w.lines[1:]
	}
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.emit(string(w.buf))
	w.buf = nil
}

func (w *lineWriter) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, " | ")
}

// credentialEnv passes HTTP credentials to git through environment
// configuration, so they never appear in a command line.
func credentialEnv(c *sdk.Credentials) ([]string, error) {
	if c == nil {
		return nil, nil
	}
	if len(c.SSHPrivateKey) > 0 {
		return nil, fmt.Errorf("the example provider supports no SSH keys: %w", sdk.ErrInvalidArgument)
	}
	user, pass := c.Username, c.Password
	if c.Token != "" {
		pass = c.Token
		if user == "" {
			user = "x-access-token"
		}
	}
	if user == "" && pass == "" {
		return nil, nil
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return []string{
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.extraHeader",
		"GIT_CONFIG_VALUE_0=Authorization: Basic " + auth,
	}, nil
}

// remoteRefs lists a repository's refs with git ls-remote: the refs by full
// name and the ref HEAD points to.
func remoteRefs(ctx context.Context, repo string, env []string) (refs map[string]string, head string, err error) {
	out, err := runGit(ctx, "", env, nil, "ls-remote", "--symref", "--", repo)
	if err != nil {
		return nil, "", err
	}
	refs = map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		left, name, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if target, isSym := strings.CutPrefix(left, "ref: "); isSym {
			if name == "HEAD" {
				head = target
			}
			continue
		}
		refs[name] = left
	}
	return refs, head, nil
}

// isHex reports whether s looks like an abbreviated or full commit SHA.
func isHex(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
