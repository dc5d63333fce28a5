package gitclient

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// session is the private environment of one call: a temporary HOME, the
// SSH key and known_hosts files, and the git configuration that carries
// the credentials. Credentials never appear in a command line or a URL.
// close removes every file.
type session struct {
	tmp    string
	env    []string
	scrub  *scrubber
	remote Remote
	// hostKeyUnverified is true when SSH host keys are accepted on first
	// use because no known_hosts was given.
	hostKeyUnverified bool
}

// newSession prepares the environment to reach r with creds. knownHosts is
// the plugin's configured known_hosts content, used when creds has none.
func newSession(r Remote, creds *sdk.Credentials, knownHosts string) (_ *session, err error) {
	if creds == nil {
		creds = &sdk.Credentials{}
	}
	tmp, err := os.MkdirTemp("", "berth-git-*")
	if err != nil {
		return nil, fmt.Errorf("creating a private git home: %w", err)
	}
	s := &session{tmp: tmp, remote: r}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	home := filepath.Join(tmp, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return nil, fmt.Errorf("creating a private git home: %w", err)
	}

	protocols := "https:http:ssh:git"
	if r.Transport == TransportLocal {
		// Submodules of a remote repository never get to read local paths.
		protocols += ":file"
	}
	config := [][2]string{
		{"advice.detachedHead", "false"},
		{"init.defaultBranch", "main"},
		{"credential.helper", ""},
		{"core.hooksPath", "/dev/null"},
	}
	user, pass := r.Username, r.Password
	if creds.Username != "" {
		user = creds.Username
	}
	if creds.Password != "" {
		pass = creds.Password
	}
	if creds.Token != "" {
		pass = creds.Token
		if user == "" {
			user = "x-access-token"
		}
	}
	var basic string
	if r.Transport == TransportHTTP && pass != "" {
		basic = base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		// Scoped to the repository's origin: a submodule on another host
		// never receives the header.
		config = append(config, [2]string{"http." + r.Origin + "/.extraHeader", "Authorization: Basic " + basic})
	}
	s.scrub = newScrubber(pass, creds.Password, creds.Token, basic, string(creds.SSHPrivateKey))

	extra := []string{"GIT_ALLOW_PROTOCOL=" + protocols}
	if r.Transport == TransportSSH || len(creds.SSHPrivateKey) > 0 {
		sshCommand, err := s.sshCommand(creds, knownHosts)
		if err != nil {
			return nil, err
		}
		extra = append(extra, "GIT_SSH_COMMAND="+sshCommand, "GIT_SSH_VARIANT=ssh")
	}
	extra = append(extra, "GIT_CONFIG_COUNT="+strconv.Itoa(len(config)))
	for i, kv := range config {
		n := strconv.Itoa(i)
		extra = append(extra, "GIT_CONFIG_KEY_"+n+"="+kv[0], "GIT_CONFIG_VALUE_"+n+"="+kv[1])
	}
	s.env = environment(home, extra...)
	return s, nil
}

// sshCommand writes the deploy key (0600) and known_hosts into the session
// directory and returns the GIT_SSH_COMMAND using them. Host keys are
// checked against the given known_hosts; without one they are accepted on
// first use into a file that lives as long as the session.
func (s *session) sshCommand(creds *sdk.Credentials, knownHosts string) (string, error) {
	if strings.ContainsAny(s.tmp, "'\n") {
		return "", fmt.Errorf("temporary directory %q has a quote or newline in its path: %w", s.tmp, sdk.ErrInvalidArgument)
	}
	kh := string(creds.SSHKnownHosts)
	if kh == "" {
		kh = knownHosts
	}
	strict := "yes"
	if strings.TrimSpace(kh) == "" {
		strict = "accept-new"
		s.hostKeyUnverified = true
	}
	khFile := filepath.Join(s.tmp, "known_hosts")
	if err := os.WriteFile(khFile, []byte(kh), 0o600); err != nil {
		return "", fmt.Errorf("writing known_hosts: %w", err)
	}
	args := []string{
		"ssh", "-F", "/dev/null",
		"-o", "BatchMode=yes",
		"-o", "IdentitiesOnly=yes",
		"-o", "ConnectTimeout=30",
		"-o", "StrictHostKeyChecking=" + strict,
		"-o", "UserKnownHostsFile=" + shellQuote(khFile),
		"-o", "GlobalKnownHostsFile=/dev/null",
	}
	if len(creds.SSHPrivateKey) > 0 {
		key := creds.SSHPrivateKey
		if key[len(key)-1] != '\n' {
			key = append(append([]byte{}, key...), '\n') // OpenSSH refuses a key without its final newline
		}
		keyFile := filepath.Join(s.tmp, "deploy_key")
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			return "", fmt.Errorf("writing the deploy key: %w", err)
		}
		args = append(args, "-i", shellQuote(keyFile))
	}
	return strings.Join(args, " "), nil
}

// shellQuote quotes s for the POSIX shell git runs GIT_SSH_COMMAND with.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// git runs git in dir within the session; see run.
func (s *session) git(ctx context.Context, dir string, log sdk.LogFunc, args ...string) (string, error) {
	return run(ctx, dir, s.env, s.scrub, log, args...)
}

// close removes the session's files, the deploy key among them.
func (s *session) close() {
	_ = os.RemoveAll(s.tmp)
}
