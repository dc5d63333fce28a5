package plugins

import (
	"sync"
	"time"
)

// Repeated crash reporting: a plugin that crashes CrashReportCount times
// within CrashReportWindow is reported to Options.OnRepeatedCrash, at most
// once per CrashReportInterval per plugin.
const (
	CrashReportCount    = 3
	CrashReportWindow   = 10 * time.Minute
	CrashReportInterval = time.Hour
)

// CrashReport describes a plugin that keeps crashing.
type CrashReport struct {
	PluginID string
	Version  string
	// Crashes counts the crashes within CrashReportWindow.
	Crashes   int
	LastError string
}

// crashWatch counts each plugin's recent crashes.
type crashWatch struct {
	mu      sync.Mutex
	recent  map[string][]time.Time
	lastRep map[string]time.Time
}

// note records a crash of plugin id at now and reports how many crashes
// fell within the window and whether they are to be reported now.
func (w *crashWatch) note(id string, now time.Time) (int, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.recent == nil {
		w.recent, w.lastRep = map[string][]time.Time{}, map[string]time.Time{}
	}
	var kept []time.Time
	for _, t := range w.recent[id] {
		if now.Sub(t) < CrashReportWindow {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	w.recent[id] = kept
	if len(kept) < CrashReportCount {
		return len(kept), false
	}
	if last, ok := w.lastRep[id]; ok && now.Sub(last) < CrashReportInterval {
		return len(kept), false
	}
	w.lastRep[id] = now
	return len(kept), true
}

// noteCrash counts a crash of instance i (whose lock the caller holds) and
// calls Options.OnRepeatedCrash, on its own goroutine, when the plugin
// crashed often enough.
func (h *Host) noteCrash(i *instance, cause error) {
	if h.opts.OnRepeatedCrash == nil {
		return
	}
	n, report := h.crashes.note(i.id, time.Now())
	if !report {
		return
	}
	r := CrashReport{PluginID: i.id, Version: i.entry.Version, Crashes: n, LastError: cause.Error()}
	go h.opts.OnRepeatedCrash(r)
}
