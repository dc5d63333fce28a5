package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/berth-dev/berth/plugins/index"
	"github.com/berth-dev/berth/sdk"
)

// exitWait bounds how long a failed call waits for the plugin process to be
// seen exiting before the failure is put down to something else.
const exitWait = time.Second

// instance is one plugin of the index and, while it runs, its process.
type instance struct {
	h  *Host
	id string

	mu       sync.Mutex
	entry    index.Entry
	path     string
	source   string
	settings json.RawMessage // last settings applied with Configure

	client    *plugin.Client // nil unless running
	raw       sdk.Plugin     // dispensed client while running
	gen       uint64         // increments at every start
	starting  chan struct{}  // non-nil while a start is under way
	state     State
	lastErr   string
	since     time.Time
	startedAt time.Time
	restarts  int
	crashes   int       // consecutive crashes and failed starts, for backoff
	notBefore time.Time // no start before this
	inflight  int
	lastUsed  time.Time
	pid       int
}

func newInstance(h *Host, e index.Entry, path, source string) *instance {
	return &instance{h: h, id: e.ID, entry: e, path: path, source: source, state: StateNotStarted, since: time.Now()}
}

func (i *instance) kind() sdk.Kind {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.entry.Kind
}

func (i *instance) info() Info {
	i.mu.Lock()
	defer i.mu.Unlock()
	e := i.entry
	return Info{
		ID: e.ID, Kind: e.Kind, Name: e.Name, Version: e.Version, Description: e.Description.Description,
		Capabilities: slices.Clone(e.Capabilities), ProtocolVersions: slices.Clone(e.ProtocolVersions),
		Source: i.source, Path: i.path, SHA256: e.SHA256,
		Health:       Health{State: i.state, LastError: i.lastErr, Since: i.since, Restarts: i.restarts, PID: i.pid},
		ConfigSchema: e.ConfigSchema, AppSchema: e.AppSchema,
	}
}

// update replaces the index entry, stopping the process if the binary or
// its checksum changed.
func (i *instance) update(e index.Entry, path, source string) {
	i.mu.Lock()
	changed := i.path != path || i.entry.SHA256 != e.SHA256
	i.entry, i.path, i.source = e, path, source
	i.mu.Unlock()
	if changed {
		i.stop(StateStopped)
	}
}

// lease is the use of a running process by one call.
type lease struct {
	i      *instance
	raw    sdk.Plugin
	client *plugin.Client
	gen    uint64
}

// acquire returns a lease on a running process, starting the plugin if
// needed (after the restart backoff when it crashed). ctx bounds the wait.
func (i *instance) acquire(ctx context.Context) (*lease, error) {
	for {
		i.mu.Lock()
		if i.h.isClosed() {
			i.mu.Unlock()
			return nil, ErrClosed
		}
		if i.client != nil {
			if !i.client.Exited() {
				i.inflight++
				i.lastUsed = time.Now()
				l := &lease{i: i, raw: i.raw, client: i.client, gen: i.gen}
				i.mu.Unlock()
				return l, nil
			}
			i.crashedLocked(errors.New("the plugin process exited"))
		}
		if ch := i.starting; ch != nil {
			i.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		ch := make(chan struct{})
		i.starting = ch
		prevState := i.state
		wait := time.Until(i.notBefore)
		entry, path, settings := i.entry, i.path, i.settings
		i.mu.Unlock()

		var (
			client *plugin.Client
			raw    sdk.Plugin
			err    error
		)
		if wait > 0 {
			i.h.logger.Debug("waiting before restarting plugin", "plugin", i.id, "backoff", wait)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				err = ctx.Err()
			}
		}
		if err == nil {
			i.setState(StateStarting)
			client, raw, err = i.start(ctx, entry, path, settings)
		}

		i.mu.Lock()
		close(ch)
		i.starting = nil
		now := time.Now()
		switch {
		case err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// The caller gave up: not the plugin's fault, no backoff.
			i.state = prevState
			i.mu.Unlock()
			return nil, err
		case err != nil:
			i.state, i.lastErr, i.since = StateFailed, err.Error(), now
			i.crashes++
			i.notBefore = now.Add(i.backoff())
			i.mu.Unlock()
			i.h.logger.Error("plugin failed to start", "plugin", i.id, "error", err)
			return nil, err
		case i.h.isClosed():
			i.mu.Unlock()
			client.Kill()
			return nil, ErrClosed
		}
		if prevState == StateCrashed || prevState == StateFailed {
			i.restarts++
		}
		i.client, i.raw = client, raw
		i.gen++
		i.state, i.since, i.startedAt, i.lastUsed = StateRunning, now, now, now
		i.pid = 0
		if rc := client.ReattachConfig(); rc != nil {
			i.pid = rc.Pid
		}
		i.mu.Unlock()
		i.h.logger.Info("plugin started", "plugin", i.id, "pid", i.pid, "protocol", client.NegotiatedVersion())
	}
}

func (i *instance) setState(s State) {
	i.mu.Lock()
	i.state, i.since = s, time.Now()
	i.mu.Unlock()
}

// backoff is the delay before the next start after i.crashes consecutive
// failures. Callers hold i.mu.
func (i *instance) backoff() time.Duration {
	d := i.h.opts.RestartBackoff
	for n := 1; n < i.crashes && d < i.h.opts.MaxRestartBackoff; n++ {
		d *= 2
	}
	return min(d, i.h.opts.MaxRestartBackoff)
}

// start launches the plugin process, checks it is the plugin the index
// describes, and re-applies its settings.
func (i *instance) start(ctx context.Context, e index.Entry, path string, settings json.RawMessage) (*plugin.Client, sdk.Plugin, error) {
	var common []int
	for _, v := range e.ProtocolVersions {
		if slices.Contains(sdk.ProtocolVersions, v) {
			common = append(common, v)
		}
	}
	if len(common) == 0 {
		return nil, nil, fmt.Errorf("%w: the index says it speaks protocol version(s) %v, this berth speaks %v; rebuild the plugin with a compatible berth SDK",
			ErrUnsupportedProtocol, e.ProtocolVersions, sdk.ProtocolVersions)
	}
	sum, err := hex.DecodeString(e.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bad sha256 in the index: %w", ErrStart, err)
	}
	logger := fixedNameLogger{i.h.logger.Named(i.id).With("plugin_id", i.id)}
	cmd := exec.Command(path)
	cmd.Env = slices.Clone(i.h.env)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.HostPluginSets(),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     i.h.opts.StartTimeout,
		Managed:          true,
		Logger:           logger,
		SyncStdout:       &lineLogger{log: logger, level: hclog.Warn, msg: "plugin wrote to stdout"},
		SyncStderr:       &lineLogger{log: logger, level: hclog.Info, msg: "plugin stderr"},
	})

	type started struct {
		rpc plugin.ClientProtocol
		err error
	}
	done := make(chan started, 1)
	go func() {
		rpc, err := client.Client()
		done <- started{rpc, err}
	}()
	var s started
	select {
	case s = <-done:
	case <-ctx.Done():
		client.Kill()
		<-done
		return nil, nil, ctx.Err()
	}
	if s.err != nil {
		client.Kill()
		return nil, nil, classifyStartError(s.err, path, e)
	}
	fail := func(err error) (*plugin.Client, sdk.Plugin, error) {
		client.Kill()
		return nil, nil, err
	}
	dispensed, err := s.rpc.Dispense(string(e.Kind))
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrStart, err))
	}
	raw, ok := dispensed.(sdk.Plugin)
	if !ok {
		return fail(fmt.Errorf("%w: dispensed %T", ErrStart, dispensed))
	}
	info, err := raw.Info(ctx, &sdk.InfoRequest{})
	if err != nil {
		return fail(fmt.Errorf("%w: Info: %w", ErrStart, err))
	}
	if info.ID != e.ID {
		return fail(fmt.Errorf("%w: %s answers as plugin %q but the index lists it as %q", ErrStart, path, info.ID, e.ID))
	}
	if settings != nil {
		if _, err := raw.Configure(ctx, &sdk.ConfigureRequest{Settings: settings}); err != nil {
			return fail(fmt.Errorf("%w: re-applying its settings: %w", ErrStart, err))
		}
	}
	return client, raw, nil
}

// classifyStartError turns go-plugin's start errors into clear ones.
func classifyStartError(err error, path string, e index.Entry) error {
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("%w: refusing to run %s (expected sha256 %s): the binary was modified or rebuilt without regenerating the index: %w",
			ErrChecksumMismatch, path, e.SHA256, err)
	case strings.Contains(err.Error(), "incompatible API version"):
		// go-plugin reports a failed version negotiation only as text.
		return fmt.Errorf("%w: this berth speaks protocol version(s) %v: %w", ErrUnsupportedProtocol, sdk.ProtocolVersions, err)
	default:
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
}

// release ends a lease. err is the call's error: when the plugin gave no
// answer and its process is gone, the plugin is marked crashed (and
// restarted on next use) and the returned error says so.
func (l *lease) release(err error) error {
	i := l.i
	crashed := false
	if err != nil && errors.Is(err, sdk.ErrConnection) {
		deadline := time.Now().Add(exitWait)
		for !l.client.Exited() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		crashed = l.client.Exited()
	}
	i.mu.Lock()
	i.inflight--
	i.lastUsed = time.Now()
	if crashed && i.client == l.client {
		i.crashedLocked(err)
	}
	i.mu.Unlock()
	if crashed {
		return fmt.Errorf("%w during the call; it will be restarted on next use: %w", ErrCrashed, err)
	}
	return err
}

// crashedLocked records the death of the running process. Callers hold i.mu.
func (i *instance) crashedLocked(cause error) {
	c := i.client
	now := time.Now()
	if now.Sub(i.startedAt) > i.h.opts.MaxRestartBackoff {
		i.crashes = 0
	}
	i.crashes++
	i.client, i.raw, i.pid = nil, nil, 0
	i.state, i.lastErr, i.since = StateCrashed, "crashed: "+cause.Error(), now
	i.notBefore = now.Add(i.backoff())
	i.h.logger.Error("plugin crashed", "plugin", i.id, "error", cause, "restart_after", i.backoff())
	i.h.noteCrash(i, cause)
	if c != nil {
		go c.Kill() // reap go-plugin's goroutines and socket
	}
}

// stop stops the running process, if any, and leaves the plugin in state s.
func (i *instance) stop(s State) {
	i.mu.Lock()
	c := i.client
	if c != nil {
		i.client, i.raw, i.pid = nil, nil, 0
		i.state, i.since = s, time.Now()
	}
	i.mu.Unlock()
	if c != nil {
		c.Kill()
		i.h.logger.Info("plugin stopped", "plugin", i.id)
	}
}

// tick stops the plugin when it has been idle for idle (when positive) and
// records a process that died between calls.
func (i *instance) tick(now time.Time, idle time.Duration) {
	i.mu.Lock()
	c := i.client
	switch {
	case c == nil:
	case c.Exited():
		i.crashedLocked(errors.New("the plugin process exited between calls"))
		c = nil
	case idle > 0 && i.inflight == 0 && now.Sub(i.lastUsed) >= idle:
		i.client, i.raw, i.pid = nil, nil, 0
		i.state, i.since = StateStopped, now
	default:
		c = nil
	}
	i.mu.Unlock()
	if c != nil {
		c.Kill()
		i.h.logger.Info("stopped idle plugin", "plugin", i.id, "idle_timeout", idle)
	}
}

// setSettings remembers settings applied with Configure, to re-apply them
// after a restart.
func (i *instance) setSettings(s json.RawMessage) {
	i.mu.Lock()
	i.settings = slices.Clone(s)
	i.mu.Unlock()
}

func (h *Host) isClosed() bool { return h.closed.Load() }
