package browser_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/berthtest"
	"github.com/chromedp/chromedp"
)

// receiver is a local webhook endpoint that verifies notifier.webhook's
// signature and records the event types it received.
type receiver struct {
	secret string
	mu     sync.Mutex
	events []string
	bad    []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	mac := hmac.New(sha256.New, []byte(rc.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if r.Method != http.MethodPost || !hmac.Equal([]byte(r.Header.Get("X-Berth-Signature")), []byte(want)) {
		rc.bad = append(rc.bad, r.Method+" signature "+r.Header.Get("X-Berth-Signature"))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rc.events = append(rc.events, r.Header.Get("X-Berth-Event"))
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) received() (events, bad []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.events...), append([]string(nil), rc.bad...)
}

// TestNotifications creates a notifier.webhook channel from its schema
// form in Chromium, picks its events, sends a test the local receiver gets
// (signature verified), then points a second channel at a dead address,
// sends it a test and sees its failing health and error on the page.
func TestNotifications(t *testing.T) {
	s := berthtest.Run(t, bins, berthtest.Options{Prefix: "uin", NoSetup: true, NoProxy: true})
	rc := &receiver{secret: "a-signing-secret-for-the-test"}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	b := newBrowser(t, "*.browser.test")
	base := s.URL("")

	b.open(base+"/setup", `form[action="/setup"]`)
	b.fill(map[string]string{`input[name=token]`: s.SetupToken(), `input[name=name]`: "Ada", `input[name=email]`: "ada@example.com",
		`input[name=password]`: "correct horse battery", `input[name=organization]`: "Acme"})
	b.submit(`form[action="/setup"] button[type=submit]`, `#new-project`)

	// Settings, then the organization's notifications page.
	b.open(base+"/settings", `#notifications a`)
	b.submit(`#notifications a`, `#new-channel`)
	if !strings.Contains(b.eval(`document.querySelector("main").innerText`), "No notification channel yet") {
		t.Errorf("a fresh organization lists channels")
	}
	b.do("choose notifier.webhook", chromedp.SetValue(chromedp.CSS(`#new-channel select[name=plugin]`), "notifier.webhook"))
	b.submit(`#new-channel button[type=submit]`, `#channel-form input[name="s.url"]`)

	// The form from notifier.webhook's schema; deploy.failed is ticked,
	// backup.failed is picked too.
	b.fill(map[string]string{`#channel-form input[name=name]`: "ops hook", `#channel-form input[name="s.url"]`: hook.URL + "/berth",
		`#channel-form input[name="s.secret"]`: rc.secret})
	b.do("pick backup.failed", chromedp.Click(chromedp.CSS(`#channel-form input[name=events][value="backup.failed"]`)))
	groups := b.eval(`Array.from(document.querySelectorAll("#events .event-group p")).map(p => p.textContent).join(",")`)
	for _, g := range []string{"Deployments", "Previews", "Backups", "Restores", "Certificates", "Server"} {
		if !strings.Contains(groups, g) {
			t.Errorf("event groups %q lack %s", groups, g)
		}
	}
	if b.eval(`document.querySelector('#channel-form input[name=instance_events]') ? "yes" : ""`) != "yes" {
		t.Errorf("the instance administrator is not offered the instance-events toggle")
	}
	b.screenshot("notification-channel-form")
	b.submit(`#channel-form button[type=submit]`, `table.channels`)
	row := `tr[data-channel="ops hook"]`
	if text := b.eval(`document.querySelector('` + row + `').innerText`); !strings.Contains(text, "notifier.webhook") ||
		!strings.Contains(text, "deploy.failed, backup.failed") || !strings.Contains(text, "unknown") {
		t.Errorf("new channel row:\n%s", text)
	}
	if strings.Contains(b.eval(`document.querySelector("main").innerHTML`), rc.secret) {
		t.Errorf("the page shows the signing secret")
	}

	// Send test: the receiver gets a signed test event; the row turns healthy.
	b.submit(row+` form[action$="/test"] button`, ".flash")
	if msg := b.eval(`document.querySelector(".flash").textContent`); !strings.Contains(msg, "Test of ops hook passed") {
		t.Errorf("test said %q", msg)
	}
	events, bad := rc.received()
	if strings.Join(events, ",") != "test" || len(bad) > 0 {
		t.Errorf("receiver got %v (refused %v), want one signed test event", events, bad)
	}
	if state := b.eval(`document.querySelector('` + row + ` .health .badge').textContent`); state != "healthy" {
		t.Errorf("after a delivered test the channel is %q", state)
	}

	// A second channel at a dead address: its test fails, and the list
	// shows it failing with the error and when.
	b.open(base+"/settings", `#notifications a`)
	b.submit(`#notifications a`, `#new-channel`)
	b.do("choose notifier.webhook", chromedp.SetValue(chromedp.CSS(`#new-channel select[name=plugin]`), "notifier.webhook"))
	b.submit(`#new-channel button[type=submit]`, `#channel-form input[name="s.url"]`)
	deadLn := httptest.NewServer(http.NotFoundHandler())
	dead := deadLn.URL // closed: nothing listens there any more
	deadLn.Close()
	b.fill(map[string]string{`#channel-form input[name=name]`: "dead hook", `#channel-form input[name="s.url"]`: dead + "/gone"})
	b.submit(`#channel-form button[type=submit]`, `tr[data-channel="dead hook"]`)
	deadRow := `tr[data-channel="dead hook"]`
	b.submit(deadRow+` form[action$="/test"] button`, ".flash")
	if msg := b.eval(`document.querySelector(".flash").textContent`); !strings.Contains(msg, "Test of dead hook failed") {
		t.Errorf("dead channel test said %q", msg)
	}
	health := b.waitFor("the failing health", `(() => {
	  const h = document.querySelector('`+deadRow+` .health');
	  return h && h.querySelector(".badge").textContent !== "unknown" ? h.innerText : "";
	})()`, 30*time.Second)
	if !strings.Contains(health, "failing") && !strings.Contains(health, "unhealthy") {
		t.Errorf("dead channel health %q, want failing", health)
	}
	if !strings.Contains(health, "connection refused") || !strings.Contains(health, "failed") {
		t.Errorf("dead channel shows no error and time: %q", health)
	}
	b.screenshot("notifications")
	if events, _ := rc.received(); len(events) != 1 {
		t.Errorf("the receiver got %v after the dead channel's test", events)
	}
}
