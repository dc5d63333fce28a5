package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/sdk"
	"github.com/google/uuid"
)

// fakeNotifiers stands in for the plugin host: notifier.webhook with the
// harness's webhook schema; a channel whose URL names "dead" fails to
// deliver.
type fakeNotifiers struct {
	mu   sync.Mutex
	sent []string // channel names, in order
}

func (f *fakeNotifiers) NotifierSchemas(context.Context) (map[string]json.RawMessage, error) {
	// The URL is an outbound address, as notifier.webhook's own schema says.
	marked := strings.Replace(webhookSchema, `"pattern": "^https?://"`, `"pattern": "^https?://", "x-berth-outbound-url": true`, 1)
	return map[string]json.RawMessage{"notifier.webhook": json.RawMessage(marked)}, nil
}

func (f *fakeNotifiers) SendToChannel(_ context.Context, ch store.NotificationChannel, ev sdk.Event) error {
	if strings.Contains(string(ch.Settings), "dead") {
		return errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, ch.Name+" "+string(ev.Type))
	return nil
}

func (f *fakeNotifiers) StopChannel(store.NotificationChannel) {}

// channelSecret is a webhook signing secret: no page may show it.
const channelSecret = "signing-secret-never-rendered"

// TestNotificationChannelPages adds, lists, changes, tests and deletes
// channels through the dashboard's forms, as an admin, a member and a
// viewer see them.
func TestNotificationChannelPages(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	org := f.org.String()
	list := "/orgs/" + org + "/notifications"

	admin.must(200, admin.do("GET", "/orgs/"+org+"/settings", nil))
	page := admin.must(200, admin.do("GET", list, nil))
	if !strings.Contains(page.Body, "fixture alerts") || !strings.Contains(page.Body, "<option>notifier.webhook</option>") {
		t.Fatalf("empty notifications page:\n%.2000s", page.Body)
	}
	form := admin.must(200, admin.do("GET", list+"/new?plugin=notifier.webhook", nil))
	for _, want := range []string{`name="s.url"`, `name="s.secret"`, `value="deploy.failed" checked`, `value="backup.failed"`,
		"Deployments", "Backups", "Certificates", "Server", `name="project_ids" value="` + f.project.ID.String(),
		`name="environment_ids" value="` + f.env.ID.String(), `name="instance_events"`, `value="berth.restarted"`} {
		if !strings.Contains(form.Body, want) {
			t.Errorf("new channel form lacks %s", want)
		}
	}

	// Field errors next to their fields: no event, a short secret.
	values := url.Values{"plugin_id": {"notifier.webhook"}, "name": {"ops"}, "s.url": {"https://hooks.example.com/x"},
		"s.secret": {"short"}, "enabled": {"on"}}
	r := admin.must(422, admin.post(list, values))
	if !strings.Contains(r.Body, "must be at least 8 characters") {
		t.Errorf("short secret: %.3000s", r.Body)
	}
	values.Set("s.secret", channelSecret)
	r = admin.must(422, admin.post(list, values))
	if !strings.Contains(r.Body, "must name at least one event type") || strings.Contains(r.Body, channelSecret) {
		t.Errorf("no events: %.3000s", r.Body)
	}
	values["events"] = []string{"deploy.failed", "backup.failed"}
	values["project_ids"] = []string{f.project.ID.String()}
	r = admin.must(303, admin.post(list, values))
	if r.Location() != list {
		t.Fatalf("created, redirected to %q", r.Location())
	}
	page = admin.must(200, admin.do("GET", list, nil))
	for _, want := range []string{"ops", "notifier.webhook", "deploy.failed, backup.failed", f.project.Name, `s-unknown`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("list lacks %q", want)
		}
	}
	ch := h.channelNamed(f.org, "ops")
	if !strings.Contains(string(ch.Settings), channelSecret) || ch.InstanceEvents || !ch.Enabled {
		t.Fatalf("saved channel %+v %s", ch, ch.Settings)
	}

	// The edit form shows the URL but never the secret; left empty, the
	// secret is kept; the events change.
	edit := list + "/" + ch.ID.String()
	r = admin.must(200, admin.do("GET", edit, nil))
	if !strings.Contains(r.Body, "https://hooks.example.com/x") || strings.Contains(r.Body, channelSecret) ||
		!strings.Contains(r.Body, "saved; leave empty to keep") || !strings.Contains(r.Body, `value="backup.failed" checked`) {
		t.Errorf("edit form:\n%.4000s", r.Body)
	}
	upd := url.Values{"name": {"ops alerts"}, "s.url": {"https://hooks.example.com/x"}, "events": {"deploy.failed", "restore.failed"},
		"enabled": {"on"}}
	admin.must(303, admin.post(edit, upd))
	ch, _ = h.store.GetNotificationChannel(context.Background(), ch.ID)
	if ch.Name != "ops alerts" || strings.Join(ch.Events, ",") != "deploy.failed,restore.failed" || len(ch.ProjectIDs) != 0 ||
		!strings.Contains(string(ch.Settings), channelSecret) {
		t.Fatalf("updated channel %+v %s", ch, ch.Settings)
	}
	// A new address needs the secret again, shown next to it.
	upd.Set("s.url", "https://elsewhere.example.com/y")
	r = admin.must(422, admin.post(edit, upd))
	if !strings.Contains(r.Body, "must be sent again") {
		t.Errorf("changed URL without the secret: %.3000s", r.Body)
	}

	// Send test: delivered; a dead channel fails and shows its error.
	admin.must(200, admin.do("GET", list, nil))
	r = admin.must(303, admin.post(edit+"/test", nil))
	page = admin.must(200, admin.do("GET", r.Location(), nil))
	if !strings.Contains(page.Body, "Test of ops alerts passed") || !strings.Contains(page.Body, "s-healthy") {
		t.Errorf("test flash / health:\n%.3000s", page.Body)
	}
	dead := url.Values{"plugin_id": {"notifier.webhook"}, "name": {"dead"}, "s.url": {"https://dead.example.com/"},
		"events": {"deploy.failed"}, "enabled": {"on"}}
	admin.must(303, admin.post(list, dead))
	deadID := h.channelNamed(f.org, "dead").ID
	r = admin.must(303, admin.post(list+"/"+deadID.String()+"/test", nil))
	page = admin.must(200, admin.do("GET", r.Location(), nil))
	if !strings.Contains(page.Body, "Test of dead failed") || !strings.Contains(page.Body, "s-failing") ||
		!strings.Contains(page.Body, "connection refused") || !strings.Contains(page.Body, `data-refresh=`) {
		t.Errorf("dead channel:\n%.4000s", page.Body)
	}

	// A member sends tests but sees no settings form and no instance toggle;
	// a viewer sees the list only.
	h.addUser(f.org, "member@example.com", store.RoleMember)
	member := h.signIn("member@example.com")
	r = member.must(200, member.do("GET", list, nil))
	if !strings.Contains(r.Body, "Send test") || strings.Contains(r.Body, "New channel") || strings.Contains(r.Body, "/delete") {
		t.Errorf("member's list:\n%.3000s", r.Body)
	}
	r = member.must(200, member.do("GET", edit, nil))
	if strings.Contains(r.Body, "hooks.example.com") || strings.Contains(r.Body, `name="instance_events"`) {
		t.Errorf("member's channel page shows settings or the instance toggle:\n%.3000s", r.Body)
	}
	member.must(303, member.post(edit+"/test", nil))
	member.must(403, member.post(edit, upd))
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	viewer := h.signIn("viewer@example.com")
	r = viewer.must(200, viewer.do("GET", list, nil))
	if strings.Contains(r.Body, "Send test") || !strings.Contains(r.Body, "ops alerts") {
		t.Errorf("viewer's list:\n%.3000s", r.Body)
	}
	viewer.must(403, viewer.post(edit+"/test", nil))

	// A channel id of another organization is not found under this one.
	other, err := h.store.CreateOrganization(context.Background(), "Other", f.owner(t, h))
	if err != nil {
		t.Fatal(err)
	}
	admin.must(404, admin.do("GET", "/orgs/"+other.ID.String()+"/notifications/"+ch.ID.String(), nil))

	// Delete, confirmed.
	admin.must(200, admin.do("GET", list, nil))
	admin.must(303, admin.post(edit+"/delete", url.Values{"confirmed": {"yes"}}))
	if _, err := h.store.GetNotificationChannel(context.Background(), ch.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted channel: %v", err)
	}
	if got := strings.Join(h.notifiers.sent, "|"); got != "ops alerts test|ops alerts test" {
		t.Errorf("sent %q", got)
	}
}

// channelNamed returns the channel of org named name.
func (h *harness) channelNamed(org uuid.UUID, name string) store.NotificationChannel {
	h.t.Helper()
	chs, _, err := h.store.ListNotificationChannels(context.Background(), []uuid.UUID{org}, store.Page{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, c := range chs {
		if c.Name == name {
			return c
		}
	}
	h.t.Fatalf("no channel %q among %v", name, chs)
	return store.NotificationChannel{}
}

// owner returns the fixture's administrator's id.
func (f fixture) owner(t *testing.T, h *harness) uuid.UUID {
	t.Helper()
	u, err := h.store.GetUserByEmail(context.Background(), "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestChannelAnswersMatchTheAPI: the same invalid channel or forbidden
// action gets the same status and message from the API and from the
// dashboard's forms (both go through service.Notifications).
func TestChannelAnswersMatchTheAPI(t *testing.T) {
	h := newHarness(t)
	admin := h.setup()
	f := h.fixture(admin)
	h.addUser(f.org, "orgadmin@example.com", store.RoleAdmin)
	orgAdmin := h.signIn("orgadmin@example.com") // not an instance administrator
	h.addUser(f.org, "member@example.com", store.RoleMember)
	member := h.signIn("member@example.com")
	h.addUser(f.org, "viewer@example.com", store.RoleViewer)
	viewer := h.signIn("viewer@example.com")

	org, ch := f.org.String(), f.channel.ID.String()
	create := "/api/v1/organizations/" + org + "/notification-channels"
	form := func(extra ...string) url.Values {
		v := url.Values{"plugin_id": {"notifier.webhook"}, "name": {"alerts"}, "s.url": {"https://hooks.example.com/a"}, "enabled": {"on"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Add(extra[i], extra[i+1])
		}
		return v
	}
	tests := []parityCase{
		{name: "no events", as: admin,
			apiMethod: "POST", apiPath: create, apiBody: `{"name":"alerts","plugin_id":"notifier.webhook","settings":{"url":"https://hooks.example.com/a"},"events":[]}`,
			formPath: "/orgs/" + org + "/notifications", form: form(), status: 422},
		{name: "unknown event", as: admin,
			apiMethod: "POST", apiPath: create, apiBody: `{"name":"alerts","plugin_id":"notifier.webhook","settings":{"url":"https://hooks.example.com/a"},"events":["deploy.exploded"]}`,
			formPath: "/orgs/" + org + "/notifications", form: form("events", "deploy.exploded"), status: 422},
		{name: "instance events by an organization admin", as: orgAdmin,
			apiMethod: "POST", apiPath: create, apiBody: `{"name":"alerts","plugin_id":"notifier.webhook","settings":{"url":"https://hooks.example.com/a"},"events":["deploy.failed"],"instance_events":true}`,
			formPath: "/orgs/" + org + "/notifications", form: form("events", "deploy.failed", "instance_events", "on"), status: 403},
		{name: "member creates a channel", as: member,
			apiMethod: "POST", apiPath: create, apiBody: `{"name":"alerts","plugin_id":"notifier.webhook","settings":{"url":"https://hooks.example.com/a"},"events":["deploy.failed"]}`,
			formPath: "/orgs/" + org + "/notifications", form: form("events", "deploy.failed"), status: 403},
		{name: "viewer sends a test", as: viewer,
			apiMethod: "POST", apiPath: "/api/v1/notification-channels/" + ch + "/test",
			formPath: "/orgs/" + org + "/notifications/" + ch + "/test", form: url.Values{}, status: 403},
		{name: "member deletes a channel", as: member,
			apiMethod: "DELETE", apiPath: "/api/v1/notification-channels/" + ch,
			formPath: "/orgs/" + org + "/notifications/" + ch + "/delete", form: url.Values{"confirmed": {"yes"}}, status: 403},
	}
	checkParity(t, tests)
}
