package app

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/berth-dev/berth/core/certwatch"
	"github.com/berth-dev/berth/core/eventscope"
	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// RunStateFile, in the data directory, records whether the server is
// running or stopped cleanly, so the next start can tell berth.restarted
// how the previous process ended.
const RunStateFile = "run-state"

// Run states written to RunStateFile.
const (
	runStateRunning = "running"
	runStateStopped = "stopped"
)

// instanceEvents emits the events about the instance itself:
// berth.restarted, plugin.crashed and the certificate checks. The plugin
// host's crash hook may fire before the dispatcher exists: it reaches the
// dispatcher through an atomic pointer.
type instanceEvents struct {
	events atomic.Pointer[notify.Dispatcher]
}

// pluginCrashed is plugins.Options.OnRepeatedCrash: it emits plugin.crashed
// (an instance event).
func (ie *instanceEvents) pluginCrashed(r plugins.CrashReport) {
	d := ie.events.Load()
	if d == nil {
		return
	}
	d.Emit(context.Background(), pluginCrashedEvent(r))
}

// pluginCrashedEvent describes a plugin that keeps crashing.
func pluginCrashedEvent(r plugins.CrashReport) sdk.Event {
	return sdk.Event{Type: sdk.EventPluginCrashed, Severity: sdk.SeverityError,
		Title: "Plugin " + r.PluginID + " keeps crashing",
		Message: "The plugin " + r.PluginID + " crashed " + strconv.Itoa(r.Crashes) + " times within " +
			plugins.CrashReportWindow.String() + "; berth restarts it on next use. Last error: " + r.LastError,
		Plugin: &sdk.PluginDetails{PluginID: r.PluginID, Version: r.Version, Restarts: r.Crashes, LastError: r.LastError}}
}

// startEvents emits berth.restarted (once per start) and starts the
// certificate watcher. Called once the dispatcher exists (after
// startDeployments); without it (BERTH_DISABLE_PROXY) nothing is emitted,
// but the run state is still recorded.
func (s *Server) startEvents(runCtx context.Context) {
	prev := s.swapRunState(runStateRunning)
	if s.events == nil {
		return
	}
	s.notices.events.Store(s.events)
	s.events.Emit(runCtx, restartedEvent(s.version, prev, s.cfg.PublicURL))
	if s.traefik != nil && s.traefik.Options().ACMEVolume == "" {
		w := &certwatch.Watcher{Path: filepath.Join(s.traefik.Options().ACMEDir, "acme.json"),
			Events: s.events, Scoper: domainScoper{s.store}, PublicURL: s.cfg.PublicURL, Log: s.log.With("component", "certwatch")}
		go w.Run(runCtx)
	}
}

// restartedEvent describes this start; prev is the previous run state
// ("" when unknown).
func restartedEvent(version, prev, publicURL string) sdk.Event {
	d := &sdk.RestartDetails{Version: version, Reason: "started"}
	msg := "berth " + version + " started"
	switch prev {
	case runStateStopped:
		d.PreviousShutdown = sdk.ShutdownClean
		msg += " after a clean shutdown."
	case runStateRunning:
		d.PreviousShutdown, d.Reason = sdk.ShutdownUnclean, "recovered from an unclean stop"
		msg += "; the previous process did not stop cleanly (crash, kill or power loss)."
	default:
		d.Reason = "first start"
		msg += " for the first time."
	}
	return sdk.Event{Type: sdk.EventBerthRestarted, Severity: sdk.SeverityInfo, Title: "berth restarted", Message: msg,
		URL: publicURL, Restart: d}
}

// swapRunState writes state to RunStateFile and returns what it held
// ("" when it did not exist or could not be read).
func (s *Server) swapRunState(state string) string {
	path := filepath.Join(s.cfg.DataDir, RunStateFile)
	prev, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(state+"\n"), 0o600); err != nil {
		s.log.Warn("recording the run state failed", "file", path, "err", err)
	}
	return strings.TrimSpace(string(prev))
}

// markStopped records a clean shutdown for the next start's
// berth.restarted.
func (s *Server) markStopped() { s.swapRunState(runStateStopped) }

// domainScoper scopes certificate events to the organization, project and
// environment of the application serving the domain.
type domainScoper struct{ st *store.Store }

// Scope implements certwatch.Scoper.
func (d domainScoper) Scope(ctx context.Context, domain string, ev *sdk.Event) bool {
	id, err := d.st.DomainApplication(ctx, domain)
	if err != nil || id == uuid.Nil {
		return false
	}
	return eventscope.ApplicationID(ctx, d.st, id, ev) == nil
}

// wireServiceEvents hands the dispatcher to the services that emit events
// of their own (previews).
func (s *Server) wireServiceEvents(svc *service.Services) {
	if s.events != nil {
		svc.Previews.SetEvents(s.events)
	}
}
