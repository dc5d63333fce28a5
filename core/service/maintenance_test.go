package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

// fakePages records what the service layer asks of the page server.
type fakePages struct {
	mu              sync.Mutex
	ensured, remove int
	fail            error
	// enabledAtEnsure is whether the app's row said "enabled" while the first Ensure
	// ran (it must not: the route would point at nothing).
	enabledAtEnsure bool
	check           func() bool
}

func (f *fakePages) Ensure(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ensured++
	if f.ensured == 1 && f.check != nil && f.check() {
		f.enabledAtEnsure = true
	}
	return "berth-pages", f.fail
}

func (f *fakePages) Remove(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remove++
	return nil
}

func (f *fakePages) removed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remove
}

// TestMaintenanceOperations: validation, roles, the page server started
// before the row is written, and removed once no app is in maintenance.
func TestMaintenanceOperations(t *testing.T) {
	ctx := context.Background()
	w := newAppWorld(t)
	pages := &fakePages{}
	pages.check = func() bool {
		m, err := w.st.GetMaintenance(context.Background(), w.app.ID)
		return err == nil && m.Enabled
	}
	svc := service.New(service.Deps{Store: w.st, Pages: pages, PagesIdle: 50 * time.Millisecond})
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	tests := []struct {
		name   string
		p      *store.Principal
		in     service.MaintenanceInput
		status int
		field  string
	}{
		{"viewer", w.viewer, service.MaintenanceInput{Enabled: true}, 403, ""},
		{"not a member", w.outside, service.MaintenanceInput{Enabled: true}, 404, ""},
		{"page too large", w.member, service.MaintenanceInput{Enabled: true, Page: str(strings.Repeat("a", 32<<10+1))}, 422, "page"},
		{"page not UTF-8", w.member, service.MaintenanceInput{Enabled: true, Page: str("\xff")}, 422, "page"},
		{"retry after zero", w.member, service.MaintenanceInput{Enabled: true, RetryAfter: num(0)}, 422, "retry_after_seconds"},
		{"retry after too long", w.member, service.MaintenanceInput{Enabled: true, RetryAfter: num(604801)}, 422, "retry_after_seconds"},
		{"largest page", w.member, service.MaintenanceInput{Enabled: true, Page: str(strings.Repeat("a", 32<<10)), RetryAfter: num(604800)}, 0, ""},
		{"member", w.member, service.MaintenanceInput{Enabled: true, Page: str("<h1>soon</h1>"), RetryAfter: num(300)}, 0, ""},
	}
	for _, tt := range tests {
		_, err := svc.Applications.SetMaintenance(ctx, tt.p, w.app, tt.in)
		want(t, "set: "+tt.name, err, tt.status, tt.field)
	}
	if pages.ensured != 2 || pages.enabledAtEnsure {
		t.Errorf("page server ensured %d times (want 2), row enabled during Ensure: %v", pages.ensured, pages.enabledAtEnsure)
	}
	m, err := svc.Applications.Maintenance(ctx, w.viewer, w.app)
	want(t, "get: viewer", err, 0, "")
	if !m.Enabled || m.Page != "<h1>soon</h1>" || m.RetryAfter != 300 || m.Service != "berth-pages" {
		t.Errorf("state %+v", m)
	}
	_, err = svc.Applications.Maintenance(ctx, w.outside, w.app)
	want(t, "get: not a member", err, 404, "")

	// Leaving keeps the saved page and Retry-After; the server is removed
	// once idle.
	m, err = svc.Applications.SetMaintenance(ctx, w.member, w.app, service.MaintenanceInput{})
	want(t, "leave", err, 0, "")
	if m.Enabled || m.Page != "<h1>soon</h1>" || m.RetryAfter != 300 || m.Service != "" {
		t.Errorf("state after leaving %+v", m)
	}
	deadline := time.Now().Add(5 * time.Second)
	for pages.removed() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if pages.removed() != 1 {
		t.Errorf("page server removed %d times, want 1", pages.removed())
	}

	// Entering again within the idle delay keeps the server.
	_, err = svc.Applications.SetMaintenance(ctx, w.member, w.app, service.MaintenanceInput{Enabled: true})
	want(t, "enter again", err, 0, "")
	_, err = svc.Applications.SetMaintenance(ctx, w.member, w.app, service.MaintenanceInput{})
	want(t, "leave again", err, 0, "")
	_, err = svc.Applications.SetMaintenance(ctx, w.member, w.app, service.MaintenanceInput{Enabled: true})
	want(t, "enter a third time", err, 0, "")
	time.Sleep(200 * time.Millisecond)
	if pages.removed() != 1 {
		t.Errorf("page server removed while an app is in maintenance (%d removals)", pages.removed())
	}

	// A page server that cannot start: 503, nothing written.
	pages.fail = errors.New("no swarm")
	_, err = svc.Applications.SetMaintenance(ctx, w.member, w.app, service.MaintenanceInput{Enabled: true, Page: str("changed")})
	want(t, "page server down", err, 503, "")
	if m, _ := w.st.GetMaintenance(ctx, w.app.ID); m.Page == "changed" {
		t.Error("a failed enter wrote the page")
	}
	// At start-up the page server follows the stored state.
	pages.fail = nil
	ensured, removed := pages.ensured, pages.removed()
	want(t, "settle: an app in maintenance", svc.Applications.SettlePages(ctx), 0, "")
	if err := w.st.SetMaintenance(ctx, w.app.ID, store.Maintenance{RetryAfter: 120}); err != nil {
		t.Fatal(err)
	}
	want(t, "settle: none in maintenance", svc.Applications.SettlePages(ctx), 0, "")
	if pages.ensured != ensured+1 || pages.removed() != removed+1 {
		t.Errorf("settling: %d ensures, %d removals; want 1 each", pages.ensured-ensured, pages.removed()-removed)
	}
	want(t, "settle: no page server", w.svc.Applications.SettlePages(ctx), 0, "")

	// Without Docker (no page server) entering is unavailable.
	_, err = w.svc.Applications.SetMaintenance(ctx, w.member, w.app, service.MaintenanceInput{Enabled: true})
	want(t, "no page server", err, 503, "")
}
