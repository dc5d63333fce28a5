package app

import (
	"log/slog"
	"testing"

	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/plugins"
	"github.com/berth-dev/berth/sdk"
)

func TestRestartedEvent(t *testing.T) {
	s := &Server{cfg: config.Config{DataDir: t.TempDir()}, log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name         string
		before       func()
		wantShutdown string
	}{
		{"first start", func() {}, ""},
		{"after a crash", func() {}, sdk.ShutdownUnclean}, // the first start left "running"
		{"after a clean stop", s.markStopped, sdk.ShutdownClean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.before()
			ev := restartedEvent("1.2.3", s.swapRunState(runStateRunning), "https://berth.example.com")
			if ev.Type != sdk.EventBerthRestarted || ev.OrganizationID != "" || ev.Restart == nil || ev.Restart.Version != "1.2.3" ||
				ev.Restart.PreviousShutdown != tt.wantShutdown || ev.Message == "" || ev.URL == "" {
				t.Errorf("event = %+v (%+v)", ev, ev.Restart)
			}
		})
	}
}

func TestPluginCrashedEvent(t *testing.T) {
	ev := pluginCrashedEvent(plugins.CrashReport{PluginID: "notifier.slack", Version: "0.4.0", Crashes: 3, LastError: "crashed: exit status 2"})
	if ev.Type != sdk.EventPluginCrashed || ev.OrganizationID != "" || ev.Plugin == nil || ev.Plugin.Restarts != 3 ||
		ev.Plugin.Version != "0.4.0" || ev.Severity != sdk.SeverityError || ev.Message == "" {
		t.Errorf("event = %+v (%+v)", ev, ev.Plugin)
	}
	var ie instanceEvents
	ie.pluginCrashed(plugins.CrashReport{PluginID: "x"}) // no dispatcher yet: dropped, no panic
}
