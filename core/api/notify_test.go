package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
)

// fakeNotifiers is one installed notifier plugin, notifier.hook, whose
// sends are recorded; a channel whose token is "bad" is refused.
type fakeNotifiers struct {
	mu   sync.Mutex
	sent []sdk.Event
	stop []string
}

const hookSchema = `{"type":"object","properties":{
	"url":{"type":"string","format":"uri","x-berth-outbound-url":true},
	"token":{"type":"string","writeOnly":true},
	"topic":{"type":"string","maxLength":20}},"required":["url"]}`

func (f *fakeNotifiers) NotifierSchemas(context.Context) (map[string]json.RawMessage, error) {
	return map[string]json.RawMessage{"notifier.hook": json.RawMessage(hookSchema)}, nil
}

func (f *fakeNotifiers) SendToChannel(_ context.Context, ch store.NotificationChannel, ev sdk.Event) error {
	if strings.Contains(string(ch.Settings), `"token":"bad"`) {
		return fmt.Errorf("POST https://hooks.example.com: the host answered 401 (token bad): %w", sdk.ErrUnauthenticated)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, ev)
	return nil
}

func (f *fakeNotifiers) StopChannel(ch store.NotificationChannel) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stop = append(f.stop, ch.ID.String())
}

func notifyHarness(t *testing.T) (*harness, *fakeNotifiers) {
	fn := &fakeNotifiers{}
	return newHarness(t, func(o *api.Options) { o.Notifiers = fn }), fn
}

// TestNotificationChannelLifecycle: create, read (settings never
// returned), patch (settings merged, secrets kept), test, delete.
func TestNotificationChannelLifecycle(t *testing.T) {
	h, fn := notifyHarness(t)
	f := h.fixture()
	base := "/api/v1/organizations/" + f.orgID + "/notification-channels"
	var ch store.NotificationChannel
	h.must(201, h.do("POST", base, f.key, map[string]any{"name": "ops", "plugin_id": "notifier.hook",
		"settings": map[string]any{"url": "https://hooks.example.com/x", "token": "s3cret-token"},
		"events":   []string{"deploy.failed", "backup.failed", "deploy.failed"}, "project_ids": []string{f.projectID}})).json(t, &ch)
	if ch.Name != "ops" || ch.PluginID != "notifier.hook" || !ch.Enabled || len(ch.Events) != 2 ||
		len(ch.ProjectIDs) != 1 || ch.Health.State != store.ChannelUnknown {
		t.Fatalf("created channel = %+v", ch)
	}
	id := ch.ID.String()
	for _, path := range []string{base, "/api/v1/notification-channels/" + id} {
		if r := h.must(200, h.do("GET", path, f.key, nil)); strings.Contains(string(r.Body), "s3cret") || strings.Contains(string(r.Body), "settings") {
			t.Errorf("GET %s returned the settings: %s", path, r.Body)
		}
	}
	// A patch of the topic keeps the token.
	h.must(200, h.do("PATCH", "/api/v1/notification-channels/"+id, f.key, map[string]any{"settings": map[string]any{"topic": "deploys"}, "enabled": false})).json(t, &ch)
	saved, err := h.store.GetNotificationChannel(context.Background(), ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Enabled || !strings.Contains(string(saved.Settings), "s3cret-token") || !strings.Contains(string(saved.Settings), "deploys") {
		t.Errorf("after the patch: enabled %v, settings %s", ch.Enabled, saved.Settings)
	}
	var res api.ChannelTest
	h.must(200, h.do("POST", "/api/v1/notification-channels/"+id+"/test", f.key, nil)).json(t, &res)
	if !res.OK || len(fn.sent) != 1 || fn.sent[0].Type != sdk.EventTest || fn.sent[0].OrganizationID != f.orgID {
		t.Errorf("test = %+v, sent %+v", res, fn.sent)
	}
	h.must(200, h.do("GET", "/api/v1/notification-channels/"+id, f.key, nil)).json(t, &ch)
	if ch.Health.State != store.ChannelHealthy || ch.Health.LastDeliveredAt == nil {
		t.Errorf("health after a good test = %+v", ch.Health)
	}
	// Refused credentials: ok false, a message without the token, health recorded.
	h.must(200, h.do("PATCH", "/api/v1/notification-channels/"+id, f.key, map[string]any{"settings": map[string]any{"token": "bad"}}))
	h.must(200, h.do("POST", "/api/v1/notification-channels/"+id+"/test", f.key, nil)).json(t, &res)
	if res.OK || !strings.Contains(res.Message, "credentials") || strings.Contains(res.Message, "bad") {
		t.Errorf("test with refused credentials = %+v", res)
	}
	h.must(200, h.do("GET", "/api/v1/notification-channels/"+id, f.key, nil)).json(t, &ch)
	if ch.Health.State != store.ChannelFailing || ch.Health.LastError == "" || ch.Health.LastErrorAt == nil {
		t.Errorf("health after a refused test = %+v", ch.Health)
	}
	h.must(204, h.do("DELETE", "/api/v1/notification-channels/"+id, f.key, nil))
	h.must(404, h.do("GET", "/api/v1/notification-channels/"+id, f.key, nil))
	if len(fn.stop) == 0 || fn.stop[len(fn.stop)-1] != id {
		t.Errorf("the deleted channel's plugin process was not stopped: %v", fn.stop)
	}
	var types api.EventTypeList
	h.must(200, h.do("GET", "/api/v1/notification-events", f.key, nil)).json(t, &types)
	if len(types.Items) < 20 || types.Items[0].Type != sdk.EventDeployStarted {
		t.Errorf("event types = %+v", types.Items)
	}
}

// TestNotificationChannelValidation: bad input is a 422 naming the field.
func TestNotificationChannelValidation(t *testing.T) {
	h, _ := notifyHarness(t)
	f := h.fixture()
	other := h.do("POST", "/api/v1/organizations", f.key, map[string]any{"name": "globex"})
	var org store.Organization
	h.must(201, other).json(t, &org)
	var otherProj api.ProjectWithEnvironments
	h.must(201, h.do("POST", "/api/v1/projects", f.key, map[string]any{"organization_id": org.ID, "name": "elsewhere"})).json(t, &otherProj)
	base := "/api/v1/organizations/" + f.orgID + "/notification-channels"
	good := func() map[string]any {
		return map[string]any{"name": "ops", "plugin_id": "notifier.hook", "settings": map[string]any{"url": "https://hooks.example.com/x"},
			"events": []string{"deploy.failed"}}
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		status int
		field  string
	}{
		{"no name", func(b map[string]any) { delete(b, "name") }, 422, "name"},
		{"not a notifier", func(b map[string]any) { b["plugin_id"] = "backup.s3" }, 422, "plugin_id"},
		{"not installed", func(b map[string]any) { b["plugin_id"] = "notifier.pager" }, 422, "plugin_id"},
		{"no events", func(b map[string]any) { b["events"] = []string{} }, 422, "events"},
		{"unknown event", func(b map[string]any) { b["events"] = []string{"deploy.failed", "deploy.exploded"} }, 422, "events[1]"},
		{"instance event", func(b map[string]any) { b["events"] = []string{"berth.restarted"} }, 422, "events[0]"},
		{"missing setting", func(b map[string]any) { b["settings"] = map[string]any{} }, 422, "settings"},
		{"setting too long", func(b map[string]any) {
			b["settings"] = map[string]any{"url": "https://hooks.example.com/x", "topic": strings.Repeat("t", 30)}
		}, 422, "settings.topic"},
		{"project of another organization", func(b map[string]any) { b["project_ids"] = []string{otherProj.ID.String()} }, 422, "project_ids[0]"},
		{"environment that is a project", func(b map[string]any) { b["environment_ids"] = []string{f.projectID} }, 422, "environment_ids[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good()
			tt.change(b)
			r := h.do("POST", base, f.key, b)
			var e api.ErrorBody
			_ = json.Unmarshal(r.Body, &e)
			if r.Status != tt.status || !strings.HasPrefix(e.Error.Field, tt.field) {
				t.Errorf("status %d field %q (%s), want %d %q", r.Status, e.Error.Field, r.Body, tt.status, tt.field)
			}
		})
	}
	// Names are unique per organization.
	h.must(201, h.do("POST", base, f.key, good()))
	if r := h.do("POST", base, f.key, good()); r.Status != 409 {
		t.Errorf("a second channel named ops: %d %s", r.Status, r.Body)
	}
}

// TestNotificationChannelTrust: only instance administrators set
// instance_events or aim a channel at an internal address; a change of
// address by anyone needs the secrets again.
func TestNotificationChannelTrust(t *testing.T) {
	h, _ := notifyHarness(t)
	f := h.fixture()
	orgAdmin := h.orgAdmin(f)
	viewer := h.member(f, "viewer")
	base := "/api/v1/organizations/" + f.orgID + "/notification-channels"
	body := func(url string, extra map[string]any) map[string]any {
		b := map[string]any{"name": "c-" + rand8(), "plugin_id": "notifier.hook", "settings": map[string]any{"url": url, "token": "t0k"},
			"events": []string{"deploy.failed"}}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	// Internal address: refused for an organization admin, allowed for an instance administrator.
	if r := h.do("POST", base, orgAdmin, body("http://127.0.0.1:9/hook", nil)); r.Status != 403 || !strings.Contains(string(r.Body), `"field":"settings.url"`) {
		t.Errorf("org admin aiming at 127.0.0.1: %d %s", r.Status, r.Body)
	}
	h.must(201, h.do("POST", base, f.key, body("http://127.0.0.1:9/hook", nil)))
	// instance_events: instance administrators only.
	if r := h.do("POST", base, orgAdmin, body("https://hooks.example.com/x", map[string]any{"instance_events": true, "events": []string{"berth.restarted"}})); r.Status != 403 {
		t.Errorf("org admin setting instance_events: %d %s", r.Status, r.Body)
	}
	var ch store.NotificationChannel
	h.must(201, h.do("POST", base, f.key, body("https://hooks.example.com/x", map[string]any{"instance_events": true, "events": []string{"berth.restarted", "deploy.failed"}}))).json(t, &ch)
	// Viewers read, never write; members test.
	h.must(200, h.do("GET", "/api/v1/notification-channels/"+ch.ID.String(), viewer, nil))
	h.must(403, h.do("PATCH", "/api/v1/notification-channels/"+ch.ID.String(), viewer, map[string]any{"name": "x"}))
	// A new address needs the token again.
	r := h.do("PATCH", "/api/v1/notification-channels/"+ch.ID.String(), orgAdmin, map[string]any{"settings": map[string]any{"url": "https://elsewhere.example.com/"}})
	if r.Status != 422 || !strings.Contains(string(r.Body), "settings.token") {
		t.Errorf("new address without the token: %d %s", r.Status, r.Body)
	}
	h.must(200, h.do("PATCH", "/api/v1/notification-channels/"+ch.ID.String(), orgAdmin, map[string]any{
		"settings": map[string]any{"url": "https://elsewhere.example.com/", "token": "new"}}))
	// An organization admin may keep the instance admin's instance_events but not turn it off.
	if r := h.do("PATCH", "/api/v1/notification-channels/"+ch.ID.String(), orgAdmin, map[string]any{"instance_events": false}); r.Status != 403 {
		t.Errorf("org admin clearing instance_events: %d %s", r.Status, r.Body)
	}
}

// TestNotificationChannelTenantTakesOverAdminAddress: when an
// organization admin changes the settings of a channel an instance
// administrator aimed at an internal address, that address is judged
// again for them.
func TestNotificationChannelTenantTakesOverAdminAddress(t *testing.T) {
	h, _ := notifyHarness(t)
	f := h.fixture()
	orgAdmin := h.orgAdmin(f)
	var ch store.NotificationChannel
	h.must(201, h.do("POST", "/api/v1/organizations/"+f.orgID+"/notification-channels", f.key, map[string]any{"name": "internal",
		"plugin_id": "notifier.hook", "settings": map[string]any{"url": "http://127.0.0.1:9/hook"}, "events": []string{"deploy.failed"}})).json(t, &ch)
	r := h.do("PATCH", "/api/v1/notification-channels/"+ch.ID.String(), orgAdmin, map[string]any{"settings": map[string]any{"topic": "x"}})
	if r.Status != 403 || !strings.Contains(string(r.Body), `"field":"settings.url"`) {
		t.Errorf("org admin changing an admin's internal channel: %d %s", r.Status, r.Body)
	}
	h.must(200, h.do("PATCH", "/api/v1/notification-channels/"+ch.ID.String(), orgAdmin, map[string]any{"name": "renamed"}))
}
