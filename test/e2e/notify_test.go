package e2e_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dbimages"
	"github.com/berth-dev/berth/test/dockertest"
	"github.com/berth-dev/berth/test/mailpittest"
)

// Notification channels end to end: a real berth server delivers its
// events through the notifier plugins to a signed-webhook receiver run by
// the test and to a real SMTP server (Mailpit), each channel getting
// exactly the events it subscribed to, once, even across a crash.

// channel is a notification channel as the API returns it.
type channel struct {
	ID             string   `json:"id"`
	OrganizationID string   `json:"organization_id"`
	Name           string   `json:"name"`
	PluginID       string   `json:"plugin_id"`
	Events         []string `json:"events"`
	Enabled        bool     `json:"enabled"`
	Health         struct {
		State               string     `json:"state"`
		ConsecutiveFailures int        `json:"consecutive_failures"`
		LastError           string     `json:"last_error"`
		LastErrorAt         *time.Time `json:"last_error_at"`
		LastDeliveredAt     *time.Time `json:"last_delivered_at"`
	} `json:"health"`
}

// newChannel creates a notification channel in organization org.
func (s *server) newChannel(org, name, plugin string, settings map[string]any, events []string) channel {
	s.t.Helper()
	var c channel
	s.Call("POST", "/organizations/"+org+"/notification-channels", map[string]any{"name": name, "plugin_id": plugin,
		"settings": settings, "events": events, "enabled": true}, 201, &c)
	if c.ID == "" || c.OrganizationID != org || c.PluginID != plugin || !slices.Equal(sorted(c.Events), sorted(events)) || !c.Enabled {
		s.t.Fatalf("created channel = %+v", c)
	}
	return c
}

// channel returns a notification channel, checking that no secret of its
// settings comes back.
func (s *server) channel(id string, secrets ...string) channel {
	s.t.Helper()
	status, data, err := s.Server.Call(context.Background(), "GET", "/notification-channels/"+id, nil)
	if err != nil || status != 200 {
		s.t.Fatalf("GET /notification-channels/%s: %d %v %s", id, status, err, data)
	}
	for _, secret := range secrets {
		if strings.Contains(string(data), secret) {
			s.t.Fatalf("GET /notification-channels/%s returns a secret of its settings: %s", id, data)
		}
	}
	var c channel
	if err := json.Unmarshal(data, &c); err != nil {
		s.t.Fatalf("GET /notification-channels/%s: %v: %s", id, err, data)
	}
	return c
}

// sendTest asks the channel to send a test event and fails unless it
// reports success.
func (s *server) sendTest(id string) {
	s.t.Helper()
	var res struct {
		OK      bool   `json:"ok"`
		Message string `json:"message"`
	}
	s.Call("POST", "/notification-channels/"+id+"/test", nil, 200, &res)
	if !res.OK {
		s.t.Fatalf("test of channel %s: not ok: %s", id, res.Message)
	}
}

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	sort.Strings(xs)
	return xs
}

// hookRequest is one request the webhook receiver got.
type hookRequest struct {
	At   time.Time
	ID   string // the body's id
	Type string // the body's type
	// Subject is what the event is about: details.deploy.deployment_id or
	// details.backup.backup_id.
	Subject string
	Error   string // details.deploy.error
	// State is the body's fields.state (threshold.crossed: firing or resolved).
	State string
	// Status is the receiver's answer; 0 while held, -1 when the client
	// went away before an answer.
	Status int
}

// receiver is a webhook endpoint of notifier.webhook: it verifies every
// request's signature (a bad or missing one fails the test and is
// answered 401), checks the headers match the body and records what came.
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server
	// status is what it answers, after delay.
	status int
	delay  time.Duration
	// holdFirst holds the first request of this event type without
	// answering until the client goes away (or the test ends).
	holdFirst string

	mu       sync.Mutex
	requests []*hookRequest
	errs     []string
	held     bool
	closed   chan struct{}
}

func newReceiver(t *testing.T, secret string, status int) *receiver {
	r := &receiver{t: t, secret: secret, status: status, closed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.closed)
		r.srv.CloseClientConnections()
		r.srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range r.errs {
			t.Errorf("webhook receiver: %s", e)
		}
	})
	return r
}

func (r *receiver) fail(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.fail("read body: %v", err)
		return
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.fail("%s with Content-Type %q, want POST application/json", req.Method, req.Header.Get("Content-Type"))
	}
	if want := "sha256=" + hmacHex(r.secret, body); !hmac.Equal([]byte(req.Header.Get("X-Berth-Signature")), []byte(want)) {
		r.fail("bad or missing signature %q on %s", req.Header.Get("X-Berth-Signature"), body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p struct {
		Version int               `json:"version"`
		ID      string            `json:"id"`
		Type    string            `json:"type"`
		Fields  map[string]string `json:"fields"`
		Details struct {
			Deploy *struct {
				DeploymentID string `json:"deployment_id"`
				Error        string `json:"error"`
			} `json:"deploy"`
			Backup *struct {
				BackupID string `json:"backup_id"`
			} `json:"backup"`
		} `json:"details"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Version != 1 || p.ID == "" || p.Type == "" {
		r.fail("body is not a version 1 event (%v): %s", err, body)
	}
	if req.Header.Get("X-Berth-Delivery") != p.ID || req.Header.Get("X-Berth-Event") != p.Type {
		r.fail("X-Berth-Delivery %q / X-Berth-Event %q do not match the body's id and type: %s",
			req.Header.Get("X-Berth-Delivery"), req.Header.Get("X-Berth-Event"), body)
	}
	h := &hookRequest{At: time.Now(), ID: p.ID, Type: p.Type, State: p.Fields["state"]}
	if d := p.Details.Deploy; d != nil {
		h.Subject, h.Error = d.DeploymentID, d.Error
	}
	if b := p.Details.Backup; b != nil {
		h.Subject = b.BackupID
	}
	r.mu.Lock()
	r.requests = append(r.requests, h)
	hold := r.holdFirst != "" && p.Type == r.holdFirst && !r.held
	if hold {
		r.held = true
	}
	r.mu.Unlock()
	if hold {
		select {
		case <-req.Context().Done():
			r.answered(h, -1)
		case <-r.closed:
			r.answered(h, http.StatusServiceUnavailable)
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return
	}
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-req.Context().Done():
			r.answered(h, -1)
			return
		}
	}
	r.answered(h, r.status)
	w.WriteHeader(r.status)
}

func (r *receiver) answered(h *hookRequest, status int) {
	r.mu.Lock()
	h.Status = status
	r.mu.Unlock()
}

// url is the address channels POST to.
func (r *receiver) url() string { return r.srv.URL + "/hooks/berth" }

// got returns a copy of the requests so far.
func (r *receiver) got() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]hookRequest, len(r.requests))
	for i, h := range r.requests {
		out[i] = *h
	}
	return out
}

// delivered returns the requests answered 2xx.
func (r *receiver) delivered() []hookRequest {
	var out []hookRequest
	for _, h := range r.got() {
		if h.Status >= 200 && h.Status < 300 {
			out = append(out, h)
		}
	}
	return out
}

// find returns the first request matching ok.
func (r *receiver) find(ok func(hookRequest) bool) (hookRequest, bool) {
	for _, h := range r.got() {
		if ok(h) {
			return h, true
		}
	}
	return hookRequest{}, false
}

// requireNoErrors fails the test now if a request was refused.
func (r *receiver) requireNoErrors() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		r.t.Fatalf("webhook receiver: %s", strings.Join(r.errs, "\n"))
	}
}

// sentEvent is an event as a channel delivered it.
type sentEvent struct{ ID, Type string }

func (e sentEvent) String() string { return e.Type + " " + e.ID }

// hookEvents lists the events r received answered 2xx.
func hookEvents(r *receiver) []sentEvent {
	var out []sentEvent
	for _, h := range r.delivered() {
		out = append(out, sentEvent{h.ID, h.Type})
	}
	return out
}

// mailbox reads the events notifier.email delivered to a Mailpit from
// each message's X-Berth-Event-ID and X-Berth-Event-Type headers.
type mailbox struct {
	t       *testing.T
	srv     *mailpittest.Server
	headers map[string]sentEvent // by Mailpit message id
}

func (m *mailbox) events() []sentEvent {
	m.t.Helper()
	var out []sentEvent
	msgs := m.srv.Messages(m.t)
	for i := len(msgs) - 1; i >= 0; i-- { // oldest first
		id := msgs[i].ID
		ev, ok := m.headers[id]
		if !ok {
			h := m.srv.Headers(m.t, id)
			ev = sentEvent{ID: first(h["X-Berth-Event-Id"], h["X-Berth-Event-ID"]), Type: first(h["X-Berth-Event-Type"])}
			if ev.ID == "" || ev.Type == "" {
				m.t.Fatalf("e-mail %s (%q) lacks X-Berth-Event-ID or X-Berth-Event-Type: %v", id, msgs[i].Subject, h)
			}
			m.headers[id] = ev
		}
		out = append(out, ev)
	}
	return out
}

func first(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return l[0]
		}
	}
	return ""
}

// byType indexes events by type, failing when a type came twice.
func byType(t *testing.T, channel string, evs []sentEvent) map[string]sentEvent {
	t.Helper()
	out := map[string]sentEvent{}
	for _, e := range evs {
		if prev, dup := out[e.Type]; dup {
			t.Fatalf("%s: %s delivered twice (%s, %s); all: %v", channel, e.Type, prev.ID, e.ID, evs)
		}
		out[e.Type] = e
	}
	return out
}

// sameTypes reports whether evs are exactly one event of each type in want.
func sameTypes(evs []sentEvent, want ...string) bool {
	var got []string
	for _, e := range evs {
		got = append(got, e.Type)
	}
	return slices.Equal(sorted(got), sorted(want))
}

// TestNotificationChannels: two channels of one organization, a signed
// webhook and e-mail through Mailpit, subscribed to different events; a
// successful and a failed deployment and a database backup reach exactly
// the channels subscribed to them, once each, with the same event id on
// both; a channel of another organization subscribed to every
// organization event gets nothing. Delivering makes a channel healthy;
// "send test" delivers a test event.
func TestNotificationChannels(t *testing.T) {
	images := dbimages.Ensure(t)
	mp := mailpittest.Start(t, mailpittest.Options{})
	const secret, otherSecret = "e2e-hook-signing-secret", "e2e-other-org-secret"
	hook := newReceiver(t, secret, http.StatusNoContent)
	otherHook := newReceiver(t, otherSecret, http.StatusOK)
	s := newServer(t)
	start := time.Now()

	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "notify"}, 201, &proj)
	org, env := proj.OrganizationID, proj.Environments[0].ID

	// A Redis database starts while the channels are set up.
	var db database
	s.Call("POST", "/environments/"+env+"/databases", map[string]any{"name": "cache", "engine": "redis", "image": images.Redis}, 201, &db)
	s.Call("POST", "/databases/"+db.ID+"/deploy", nil, 200, nil)
	t.Cleanup(func() { // database services carry no dev.berth.instance label: the harness would leave it running
		if status, data, err := s.Server.Call(context.Background(), "DELETE", "/databases/"+db.ID+"?delete_volume=true", nil); err != nil || status != 204 {
			t.Errorf("delete the database: %d %v %s", status, err, data)
		}
	})

	// The event catalogue.
	var catalogue struct {
		Items []struct {
			Type         string `json:"type"`
			Title        string `json:"title"`
			InstanceOnly bool   `json:"instance_only"`
		} `json:"items"`
	}
	s.Call("GET", "/notification-events", nil, 200, &catalogue)
	var every []string
	for _, e := range catalogue.Items {
		if e.Title == "" {
			t.Errorf("event %s has no title", e.Type)
		}
		if e.Type != "test" && !e.InstanceOnly { // instance-wide events need instance_events
			every = append(every, e.Type)
		}
	}
	for _, want := range []string{"deploy.succeeded", "deploy.failed", "backup.succeeded"} {
		if !slices.Contains(every, want) {
			t.Fatalf("GET /notification-events lacks %s: %+v", want, catalogue.Items)
		}
	}

	webhook := s.newChannel(org, "ops webhook", "notifier.webhook", map[string]any{"url": hook.url(), "secret": secret},
		[]string{"deploy.succeeded", "deploy.failed"})
	email := s.newChannel(org, "ops mail", "notifier.email", map[string]any{"host": mp.SMTPHost, "port": mp.SMTPPort,
		"security": "none", "from": "berth <berth@e2e.test>", "to": []string{"ops@e2e.test"}}, []string{"backup.succeeded", "deploy.failed"})
	var org2 struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/organizations", map[string]any{"name": "elsewhere"}, 201, &org2)
	other := s.newChannel(org2.ID, "everything", "notifier.webhook", map[string]any{"url": otherHook.url(), "secret": otherSecret}, every)
	for _, c := range []channel{webhook, email, other} {
		if got := s.channel(c.ID, secret, otherSecret); got.Health.State != "unknown" || got.Health.LastDeliveredAt != nil {
			t.Fatalf("new channel %s: health %+v, want unknown", c.Name, got.Health)
		}
	}
	var list struct {
		Items []channel `json:"items"`
	}
	s.Call("GET", "/organizations/"+org+"/notification-channels", nil, 200, &list)
	if len(list.Items) != 2 {
		t.Fatalf("organization %s lists %d channels, want its 2: %+v", org, len(list.Items), list.Items)
	}

	// A deployment that succeeds, then one whose build fails.
	repo := newRepo(t)
	repo.Commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("notify-v1")})
	var a app
	s.Call("POST", "/environments/"+env+"/applications", map[string]any{"name": "web", "git_repository": repo.Dir,
		"build_type": "dockerfile", "port": 8080}, 201, &a)
	good := s.deployAndWait(a, "succeeded")
	repo.Commit("broken build", map[string]string{"Dockerfile": dockerfile("notify-v2", `RUN ["/app", "crash"]`)})
	bad := s.deployAndWait(a, "failed")

	// A backup of the database.
	var conn struct {
		Password string `json:"password"`
	}
	s.Call("GET", "/databases/"+db.ID+"/connection", nil, 200, &conn)
	s.waitFor("redis answering", time.Minute, func() bool {
		out, err := s.execErr(db.ServiceName, []string{"REDISCLI_AUTH=" + conn.Password}, "redis-cli", "ping")
		return err == nil && out == "PONG"
	})
	var dest struct {
		ID string `json:"id"`
	}
	s.Call("POST", "/organizations/"+org+"/backup-destinations", map[string]any{"name": "disk", "plugin_id": "backup.local",
		"settings": map[string]any{"directory": dockertest.SearchableTempDir(t)}}, 201, &dest)
	var policy backupPolicy
	s.Call("POST", "/databases/"+db.ID+"/backup-policies", map[string]any{"destination_id": dest.ID, "schedule": "0 0 1 1 *",
		"retries": 0, "enabled": true}, 201, &policy)
	var backup backupRecord
	s.Call("POST", "/backup-policies/"+policy.ID+"/run", nil, 202, &backup)
	s.waitFor("the backup to finish", 2*time.Minute, func() bool {
		s.Call("GET", "/backups/"+backup.ID, nil, 200, &backup)
		return backup.Status == "succeeded" || backup.Status == "failed"
	})
	if backup.Status != "succeeded" {
		t.Fatalf("backup: %s %q", backup.Status, backup.Error)
	}
	emitted := time.Now()

	// Each channel gets exactly its events, then nothing more.
	mail := &mailbox{t: t, srv: mp, headers: map[string]sentEvent{}}
	s.waitFor("the webhook and e-mail deliveries", time.Minute, func() bool {
		hook.requireNoErrors()
		return len(hookEvents(hook)) >= 2 && len(mail.events()) >= 2
	})
	t.Logf("all four deliveries done %s after the backup finished", time.Since(emitted).Round(time.Millisecond))
	time.Sleep(4 * time.Second)
	hook.requireNoErrors()
	otherHook.requireNoErrors()
	hookGot, mailGot := hookEvents(hook), mail.events()
	if !sameTypes(hookGot, "deploy.succeeded", "deploy.failed") || len(hook.got()) != 2 {
		t.Fatalf("webhook channel received %v (%d requests), want deploy.succeeded and deploy.failed once each", hookGot, len(hook.got()))
	}
	if !sameTypes(mailGot, "deploy.failed", "backup.succeeded") {
		t.Fatalf("e-mail channel received %v, want deploy.failed and backup.succeeded once each", mailGot)
	}
	if got := otherHook.got(); len(got) != 0 {
		t.Fatalf("the other organization's channel received %+v, want nothing", got)
	}
	hooks, mails := byType(t, "webhook", hookGot), byType(t, "e-mail", mailGot)
	if hooks["deploy.failed"].ID != mails["deploy.failed"].ID {
		t.Errorf("deploy.failed has id %s on the webhook and %s by e-mail, want one event", hooks["deploy.failed"].ID, mails["deploy.failed"].ID)
	}
	okReq, _ := hook.find(func(h hookRequest) bool { return h.Type == "deploy.succeeded" })
	failReq, _ := hook.find(func(h hookRequest) bool { return h.Type == "deploy.failed" })
	if okReq.Subject != good.ID || failReq.Subject != bad.ID || failReq.Error == "" {
		t.Errorf("webhook bodies: deploy.succeeded of %q, deploy.failed of %q (error %q); want deployments %s and %s with the error",
			okReq.Subject, failReq.Subject, failReq.Error, good.ID, bad.ID)
	}

	// Delivering made both channels healthy; the other one never sent.
	for _, c := range []channel{webhook, email} {
		got := s.channel(c.ID, secret)
		if got.Health.State != "healthy" || got.Health.LastDeliveredAt == nil || got.Health.ConsecutiveFailures != 0 {
			t.Errorf("channel %s after delivering: health %+v, want healthy with last_delivered_at", c.Name, got.Health)
		}
	}
	if got := s.channel(other.ID, otherSecret); got.Health.State != "unknown" || got.Health.LastDeliveredAt != nil {
		t.Errorf("the other organization's channel: health %+v, want unknown", got.Health)
	}

	// "Send test" delivers a test event through each channel.
	s.sendTest(webhook.ID)
	s.sendTest(email.ID)
	s.waitFor("the test events", 30*time.Second, func() bool {
		return len(hookEvents(hook)) == 3 && len(mail.events()) == 3
	})
	hook.requireNoErrors()
	if got := hookEvents(hook); got[2].Type != "test" {
		t.Fatalf("webhook after send test: %v, want a test event last", got)
	}
	if got := mail.events(); got[2].Type != "test" {
		t.Fatalf("e-mail after send test: %v, want a test event last", got)
	}
	if got := otherHook.got(); len(got) != 0 {
		t.Fatalf("the other organization's channel received %+v, want nothing", got)
	}
	t.Logf("TestNotificationChannels took %s after berth started", time.Since(start).Round(time.Second))
}

// TestNotificationSurvivesKill: berth is SIGKILLed while a webhook
// request of an event is in flight (the receiver holds it unanswered);
// restarted on the same database, it delivers the event again with the
// same id, and exactly one delivery of it succeeds. A channel whose
// receiver is slow and answers 500 becomes failing with its last error
// and does not hold up the healthy channel's delivery of the same event.
func TestNotificationSurvivesKill(t *testing.T) {
	const secret, badSecret = "e2e-kill-signing-secret", "e2e-failing-secret"
	const badDelay = 4 * time.Second
	hook := newReceiver(t, secret, http.StatusOK)
	hook.holdFirst = "deploy.succeeded"
	failing := newReceiver(t, badSecret, http.StatusInternalServerError)
	failing.delay = badDelay
	s := newServer(t)
	image := s.Name + "-notify:v1"
	buildImage(t, s, image)

	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "notify-kill"}, 201, &proj)
	org := proj.OrganizationID
	healthy := s.newChannel(org, "receiver", "notifier.webhook", map[string]any{"url": hook.url(), "secret": secret}, []string{"deploy.succeeded"})
	broken := s.newChannel(org, "broken", "notifier.webhook", map[string]any{"url": failing.url(), "secret": badSecret}, []string{"deploy.succeeded"})
	var a app
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/applications", map[string]any{"name": "img", "source_type": "image",
		"image": image, "port": 8080}, 201, &a)

	// The first delivery is held in flight, and berth killed.
	d1 := s.deployAndWait(a, "succeeded")
	var held hookRequest
	s.waitFor("the webhook request to be held", time.Minute, func() bool {
		hook.requireNoErrors()
		var ok bool
		held, ok = hook.find(func(h hookRequest) bool { return h.Subject == d1.ID })
		return ok
	})
	s.Kill()
	killed := time.Now()
	gone := false
	for time.Since(killed) < 5*time.Second && !gone {
		h, _ := hook.find(func(h hookRequest) bool { return h.ID == held.ID })
		gone = h.Status == -1
		time.Sleep(100 * time.Millisecond)
	}
	if !gone {
		t.Logf("the held request's connection is still open 5s after berth was killed (its plugin process outlived it)")
	}
	s.restart("")

	// Delivered again with the same id, answered once.
	s.waitFor("the event delivered again after the restart", time.Minute, func() bool {
		hook.requireNoErrors()
		return len(hook.delivered()) > 0
	})
	t.Logf("redelivered %s after the kill", time.Since(killed).Round(time.Millisecond))
	time.Sleep(3 * time.Second)
	hook.requireNoErrors()
	var ok []hookRequest
	for _, h := range hook.got() {
		if h.Subject == d1.ID && h.ID != held.ID {
			t.Fatalf("deployment %s notified under a second event id %s (first %s): %+v", d1.ID, h.ID, held.ID, hook.got())
		}
		if h.Status >= 200 && h.Status < 300 {
			ok = append(ok, h)
		}
	}
	if len(ok) != 1 || ok[0].ID != held.ID {
		t.Fatalf("answered deliveries %+v, want exactly one of event %s; all requests: %+v", ok, held.ID, hook.got())
	}

	// The broken channel: its receiver got the event, and it reports failing
	// with a safe last error.
	s.waitFor("the broken channel to report its failure", time.Minute, func() bool {
		st := s.channel(broken.ID, badSecret).Health.State
		return st == "failing" || st == "unhealthy"
	})
	b := s.channel(broken.ID, badSecret)
	if b.Health.LastError == "" || b.Health.LastErrorAt == nil || b.Health.ConsecutiveFailures < 1 || b.Health.LastDeliveredAt != nil {
		t.Errorf("broken channel health %+v, want failing with last_error, last_error_at and no delivery", b.Health)
	}
	if strings.Contains(b.Health.LastError, failing.srv.URL) || strings.Contains(b.Health.LastError, "/hooks/berth") {
		t.Errorf("last_error shows the webhook URL: %q", b.Health.LastError)
	}
	if _, ok := failing.find(func(h hookRequest) bool { return h.ID == held.ID }); !ok {
		t.Errorf("the broken channel's receiver never got event %s: %+v", held.ID, failing.got())
	}

	// The next event reaches the healthy channel while the broken one is
	// still waiting for its slow 500.
	d2 := s.deployAndWait(a, "succeeded")
	finished := time.Now()
	var okAt, badAt hookRequest
	s.waitFor("both channels to be sent the second event", time.Minute, func() bool {
		var ok1, ok2 bool
		okAt, ok1 = hook.find(func(h hookRequest) bool { return h.Subject == d2.ID && h.Status == http.StatusOK })
		badAt, ok2 = failing.find(func(h hookRequest) bool { return h.Subject == d2.ID })
		return ok1 && ok2
	})
	t.Logf("second event: healthy channel delivered %s after the deployment was seen finished, the broken one tried %s after",
		okAt.At.Sub(finished).Round(time.Millisecond), badAt.At.Sub(finished).Round(time.Millisecond))
	if okAt.At.After(badAt.At.Add(badDelay)) {
		t.Errorf("the healthy channel got the event at %s, after the broken channel's attempt (from %s) had ended: it waited for it",
			okAt.At.Format(time.StampMilli), badAt.At.Format(time.StampMilli))
	}
	if okAt.ID != badAt.ID {
		t.Errorf("one event, two ids: %s on the healthy channel, %s on the broken one", okAt.ID, badAt.ID)
	}
	if h := s.channel(healthy.ID, secret).Health; h.State != "healthy" || h.LastDeliveredAt == nil {
		t.Errorf("healthy channel: %+v", h)
	}
	hook.requireNoErrors()
	failing.requireNoErrors()
}
