package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/plugins/index"
	"github.com/berth-dev/berth/sdk"
)

func TestListIsLazy(t *testing.T) {
	h := newHost(t, plugins.Options{}, "probe", "notifier", "builder")
	list, err := h.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range list {
		ids = append(ids, p.ID)
		if p.Health.State != plugins.StateNotStarted || p.Health.PID != 0 {
			t.Errorf("%s: health %+v before any use, want not_started", p.ID, p.Health)
		}
		if len(p.ConfigSchema) == 0 || p.Version == "" || len(p.ProtocolVersions) == 0 || p.SHA256 == "" {
			t.Errorf("%s: incomplete listing %+v", p.ID, p)
		}
	}
	if want := []string{"builder.example", "notifier.example", "notifier.probe"}; !slices.Equal(ids, want) {
		t.Errorf("List ids = %v, want %v", ids, want)
	}
	if b := status(t, h, "builder.example"); len(b.AppSchema) == 0 || b.Kind != sdk.KindBuilder {
		t.Errorf("builder listing lacks its app schema or kind: %+v", b)
	}

	if _, err := h.Notifier(ctx(t), "notifier.probe"); err != nil {
		t.Fatal(err)
	}
	st := status(t, h, "notifier.probe")
	if st.Health.State != plugins.StateRunning || st.Health.PID == 0 {
		t.Errorf("after use: health %+v, want running with a pid", st.Health)
	}
	if other := status(t, h, "notifier.example"); other.Health.State != plugins.StateNotStarted {
		t.Errorf("an unused plugin was started: %+v", other.Health)
	}
}

func TestAccessorErrors(t *testing.T) {
	h := newHost(t, plugins.Options{}, "probe")
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"wrong kind", func() error { _, err := h.Builder(ctx(t), "notifier.probe"); return err }, plugins.ErrWrongKind},
		{"unknown", func() error { _, err := h.Notifier(ctx(t), "notifier.nope"); return err }, plugins.ErrUnknownPlugin},
		{"unknown backup", func() error { _, err := h.BackupTarget(ctx(t), "backup.nope"); return err }, plugins.ErrUnknownPlugin},
		{"git of a notifier", func() error { _, err := h.GitProvider(ctx(t), "notifier.probe"); return err }, plugins.ErrWrongKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var pe *plugins.Error
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), "plugin "+pe.Plugin+": ") {
				t.Errorf("error %q does not name the plugin", err)
			}
		})
	}
}

func TestPluginErrorsNameThePlugin(t *testing.T) {
	h := newHost(t, plugins.Options{}, "notifier")
	n, err := h.Notifier(ctx(t), "notifier.example")
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Configure(ctx(t), &sdk.ConfigureRequest{Settings: []byte(`{"url":"ftp://x"}`)})
	var cfg *sdk.ConfigError
	if !errors.As(err, &cfg) || cfg.Fields[0].Field != "url" {
		t.Fatalf("Configure = %v, want a ConfigError on url", err)
	}
	if !strings.HasPrefix(err.Error(), "plugin notifier.example: Configure: invalid settings: url:") {
		t.Errorf("error = %q", err)
	}
	_, err = n.Send(ctx(t), &sdk.SendRequest{Event: sdk.Event{Type: sdk.EventTest}})
	if !errors.Is(err, sdk.ErrNotConfigured) || !strings.HasPrefix(err.Error(), "plugin notifier.example: Send: ") {
		t.Errorf("Send before Configure = %v", err)
	}
}

func TestKilledMidCall(t *testing.T) {
	logs := &syncBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: logs})
	h := newHost(t, plugins.Options{RestartBackoff: 50 * time.Millisecond, Logger: logger}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Configure(ctx(t), &sdk.ConfigureRequest{Settings: []byte(`{"greeting":"hi"}`)}); err != nil {
		t.Fatal(err)
	}
	first, err := n.Send(ctx(t), &sdk.SendRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pid := status(t, h, "notifier.probe").Health.PID
	if first.MessageID != strconv.Itoa(pid)+":hi" {
		t.Fatalf("Send = %q, want pid %d and greeting", first.MessageID, pid)
	}

	done := make(chan error, 1)
	go func() {
		_, err := n.Send(ctx(t), &sdk.SendRequest{Event: sdk.Event{Fields: map[string]string{"block": "true"}}})
		done <- err
	}()
	waitFor(t, "the call to reach the plugin", func() bool { return strings.Contains(logs.String(), "blocking in Send") })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not return after the plugin was killed")
	}
	if !errors.Is(err, plugins.ErrCrashed) {
		t.Fatalf("err = %v, want ErrCrashed", err)
	}
	if !strings.HasPrefix(err.Error(), "plugin notifier.probe: Send: plugin process crashed") {
		t.Errorf("error %q does not say which plugin crashed in which call", err)
	}
	st := status(t, h, "notifier.probe")
	if st.Health.State != plugins.StateCrashed || !strings.Contains(st.Health.LastError, "crashed") {
		t.Errorf("health after the crash = %+v", st.Health)
	}

	again, err := n.Send(ctx(t), &sdk.SendRequest{})
	if err != nil {
		t.Fatalf("Send after the crash: %v", err)
	}
	st = status(t, h, "notifier.probe")
	if st.Health.State != plugins.StateRunning || st.Health.PID == pid || st.Health.Restarts != 1 {
		t.Errorf("health after restart = %+v (old pid %d)", st.Health, pid)
	}
	if again.MessageID != strconv.Itoa(st.Health.PID)+":hi" {
		t.Errorf("Send after restart = %q: settings not re-applied to pid %d", again.MessageID, st.Health.PID)
	}
}

func TestDiesBetweenCalls(t *testing.T) {
	h := newHost(t, plugins.Options{RestartBackoff: 20 * time.Millisecond}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	pid := status(t, h, "notifier.probe").Health.PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the crash to be noticed", func() bool { return status(t, h, "notifier.probe").Health.State == plugins.StateCrashed })
	if _, err := n.Send(ctx(t), &sdk.SendRequest{}); err != nil {
		t.Fatalf("Send after a crash between calls: %v", err)
	}
}

func TestTamperedBinaryRefused(t *testing.T) {
	dir := pluginDir(t, "probe")
	ix, err := index.Load(dir + "/" + index.FileName)
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := ix.Lookup("notifier.probe")
	f, err := os.OpenFile(ix.BinaryPath(entry), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("tampered")); err != nil {
		t.Fatal(err)
	}
	f.Close()

	h := newHost(t, plugins.Options{Dirs: []string{dir}})
	_, err = h.Notifier(ctx(t), "notifier.probe")
	if !errors.Is(err, plugins.ErrChecksumMismatch) {
		t.Fatalf("err = %v, want ErrChecksumMismatch", err)
	}
	for _, want := range []string{"plugin notifier.probe", "sha256", entry.SHA256} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	st := status(t, h, "notifier.probe")
	if st.Health.State != plugins.StateFailed || !strings.Contains(st.Health.LastError, "sha256") {
		t.Errorf("health = %+v, want failed with the checksum error", st.Health)
	}
}

func TestUnsupportedProtocolRefused(t *testing.T) {
	tests := []struct {
		name string
		// indexSays overrides the protocol versions recorded in the index.
		indexSays []int
		wantText  string
	}{
		// The index records what the binary describes: refused before launch.
		{"from the index", nil, "speaks protocol version(s) [99]"},
		// An index that claims version 1: go-plugin's negotiation refuses it.
		{"at the handshake", []int{1}, "Plugin version: 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := pluginDir(t, "future")
			if tt.indexSays != nil {
				file := dir + "/" + index.FileName
				ix, err := index.Load(file)
				if err != nil {
					t.Fatal(err)
				}
				ix.Plugins[0].ProtocolVersions = tt.indexSays
				if err := ix.Save(ctx(t), file); err != nil {
					t.Fatal(err)
				}
			}
			h := newHost(t, plugins.Options{Dirs: []string{dir}})
			_, err := h.Notifier(ctx(t), "notifier.future")
			if !errors.Is(err, plugins.ErrUnsupportedProtocol) {
				t.Fatalf("err = %v, want ErrUnsupportedProtocol", err)
			}
			for _, want := range []string{"plugin notifier.future", "no protocol version this berth supports", tt.wantText} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestPluginsDoNotInheritTheEnvironment(t *testing.T) {
	t.Setenv("BERTH_TEST_SECRET", "hunter2")
	t.Setenv("DATABASE_URL", "postgres://berth:secret@localhost/berth")
	h := newHost(t, plugins.Options{Env: map[string]string{"BERTH_PLUGIN_VISIBLE": "yes"}}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	r, err := n.TestConnection(ctx(t), &sdk.TestConnectionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Split(r.Message, "\x00")
	allowed := map[string]bool{
		"PATH": true, "HOME": true, "TMPDIR": true, "BERTH_PLUGIN_VISIBLE": true,
		// go-plugin's own handshake variables.
		sdk.Handshake.MagicCookieKey: true, "PLUGIN_MIN_PORT": true, "PLUGIN_MAX_PORT": true,
		"PLUGIN_PROTOCOL_VERSIONS": true, "PLUGIN_CLIENT_CERT": true,
	}
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !allowed[name] {
			t.Errorf("the plugin sees %s", name)
		}
		if strings.Contains(kv, "hunter2") || strings.Contains(kv, "secret@") {
			t.Errorf("the plugin sees a host secret: %s", kv)
		}
	}
	if !slices.Contains(env, "BERTH_PLUGIN_VISIBLE=yes") {
		t.Errorf("Options.Env did not reach the plugin: %v", env)
	}
}

func TestStderrRelogged(t *testing.T) {
	logs := &syncBuffer{}
	logger := hclog.New(&hclog.LoggerOptions{Name: "berth", Level: hclog.Info, Output: logs, JSONFormat: true})
	h := newHost(t, plugins.Options{Logger: logger}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.TestConnection(ctx(t), &sdk.TestConnectionRequest{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin's log line", func() bool { return strings.Contains(logs.String(), "probe reporting its environment") })
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "probe reporting its environment") {
			if !strings.Contains(line, `"@module":"berth.notifier.probe"`) || !strings.Contains(line, `"variables":`) {
				t.Errorf("plugin log line not under the plugin's id with its fields: %s", line)
			}
			return
		}
	}
}

func TestIdlePluginsStop(t *testing.T) {
	h := newHost(t, plugins.Options{IdleTimeout: 150 * time.Millisecond}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	pid := status(t, h, "notifier.probe").Health.PID
	waitFor(t, "the idle plugin to stop", func() bool { return status(t, h, "notifier.probe").Health.State == plugins.StateStopped })
	waitFor(t, "the process to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	if _, err := n.Send(ctx(t), &sdk.SendRequest{}); err != nil {
		t.Fatal(err)
	}
	st := status(t, h, "notifier.probe")
	if st.Health.State != plugins.StateRunning || st.Health.PID == pid || st.Health.Restarts != 0 {
		t.Errorf("after reuse: %+v (old pid %d)", st.Health, pid)
	}
}

func TestBusyPluginsDoNotStop(t *testing.T) {
	h := newHost(t, plugins.Options{IdleTimeout: 100 * time.Millisecond}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx(t), 500*time.Millisecond)
	defer cancel()
	_, err = n.Send(c, &sdk.SendRequest{Event: sdk.Event{Fields: map[string]string{"block": "true"}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked Send = %v, want DeadlineExceeded (the plugin must not be stopped under a call)", err)
	}
	if st := status(t, h, "notifier.probe"); st.Health.Restarts != 0 || st.Health.State == plugins.StateCrashed {
		t.Errorf("health = %+v", st.Health)
	}
}

func TestConcurrentFirstUseStartsOneProcess(t *testing.T) {
	h := newHost(t, plugins.Options{}, "probe")
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Stop(ctx(t), "notifier.probe"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := n.Send(ctx(t), &sdk.SendRequest{})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = r.MessageID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("calls were served by several processes: %v", ids)
		}
	}
}

func TestRegisterAndReload(t *testing.T) {
	dir := t.TempDir()
	h := newHost(t, plugins.Options{Dirs: []string{dir}})
	if list, _ := h.List(ctx(t)); len(list) != 0 {
		t.Fatalf("empty directory lists %v", list)
	}
	entry, err := index.Register(ctx(t), dir, bin("probe"))
	if err != nil {
		t.Fatal(err)
	}
	if entry.ID != "notifier.probe" || entry.Path != "probe" {
		t.Errorf("entry = %+v", entry)
	}
	if err := h.Reload(ctx(t)); err != nil {
		t.Fatal(err)
	}
	n, err := h.Notifier(ctx(t), "notifier.probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Send(ctx(t), &sdk.SendRequest{}); err != nil {
		t.Fatal(err)
	}
	st := status(t, h, "notifier.probe")
	if st.Source != dir {
		t.Errorf("Source = %q, want %q", st.Source, dir)
	}
}

func TestBuiltinIndexWinsOverDirs(t *testing.T) {
	builtin := pluginDir(t, "probe")
	other := pluginDir(t, "probe", "notifier")
	h := newHost(t, plugins.Options{IndexFile: builtin + "/" + index.FileName, Dirs: []string{other}})
	if st := status(t, h, "notifier.probe"); st.Source != "builtin" {
		t.Errorf("notifier.probe comes from %q, want builtin", st.Source)
	}
	if st := status(t, h, "notifier.example"); st.Source != other {
		t.Errorf("notifier.example comes from %q, want %q", st.Source, other)
	}
}

func TestClose(t *testing.T) {
	h := newHost(t, plugins.Options{}, "probe")
	if _, err := h.Notifier(ctx(t), "notifier.probe"); err != nil {
		t.Fatal(err)
	}
	pid := status(t, h, "notifier.probe").Health.PID
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin process to exit", func() bool { return syscall.Kill(pid, 0) != nil })
	if _, err := h.Notifier(ctx(t), "notifier.probe"); !errors.Is(err, plugins.ErrClosed) {
		t.Errorf("Notifier after Close = %v, want ErrClosed", err)
	}
}

func TestBinariesDescribeThemselves(t *testing.T) {
	tests := []struct {
		bin, id string
	}{
		{"backup", "backup.example"},
		{"builder", "builder.example"},
		{"gitprovider", "git.example"},
		{"notifier", "notifier.example"},
		{"probe", "notifier.probe"},
	}
	for _, tt := range tests {
		t.Run(tt.bin, func(t *testing.T) {
			var stdout, stderr strings.Builder
			cmd := exec.Command(bin(tt.bin), sdk.DescribeArg)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("describe: %v\n%s", err, stderr.String())
			}
			var d sdk.Description
			if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil || d.ID != tt.id || d.Validate() != nil {
				t.Errorf("describe printed %q (%v)", stdout.String(), err)
			}
			// Run outside berth, a plugin explains itself on stderr, exits 1
			// and writes nothing to stdout.
			stdout.Reset()
			stderr.Reset()
			cmd = exec.Command(bin(tt.bin))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "plugin") {
				t.Errorf("direct run: err %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
			}
		})
	}
}

func TestRepeatedCrashesAreReported(t *testing.T) {
	reports := make(chan plugins.CrashReport, 4)
	h := newHost(t, plugins.Options{RestartBackoff: 20 * time.Millisecond,
		OnRepeatedCrash: func(r plugins.CrashReport) { reports <- r }}, "probe")
	for i := range 4 {
		n, err := h.Notifier(ctx(t), "notifier.probe")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Send(ctx(t), &sdk.SendRequest{}); err != nil {
			t.Fatalf("Send before crash %d: %v", i, err)
		}
		if err := syscall.Kill(status(t, h, "notifier.probe").Health.PID, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the crash to be noticed", func() bool { return status(t, h, "notifier.probe").Health.State == plugins.StateCrashed })
	}
	select {
	case r := <-reports:
		if r.PluginID != "notifier.probe" || r.Crashes != 3 || r.Version == "" || r.LastError == "" {
			t.Errorf("report = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("three crashes were not reported")
	}
	select {
	case r := <-reports:
		t.Errorf("a fourth crash within the hour was reported again: %+v", r)
	case <-time.After(200 * time.Millisecond):
	}
}
