package e2e_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/test/dockertest"
)

// TestMetricsAndAlerts runs a container that burns a known share of a core
// as an application of a real berth server sampling every 5 seconds: its
// figures reach the API and the Prometheus export, a rule held for its
// duration sends exactly one threshold.crossed through a real notifier
// plugin, the cooldown keeps it at one, and a rule the application never
// crosses sends nothing.
func TestMetricsAndAlerts(t *testing.T) {
	hook := newReceiver(t, "e2e-alerts-secret", http.StatusNoContent)
	s := newServer(t)
	image := "berth-e2e/burner:" + s.Name
	dockertest.BuildGoImage(t, dockertest.Client(t), "./test/burner", image, false)
	s.Call("PUT", "/instance/settings", map[string]any{"metrics_interval_seconds": 5}, 200, nil)

	var proj struct {
		OrganizationID string `json:"organization_id"`
		Environments   []struct {
			ID string `json:"id"`
		} `json:"environments"`
	}
	s.Call("POST", "/projects", map[string]any{"name": "observe"}, 201, &proj)
	s.newChannel(proj.OrganizationID, "alerts", "notifier.webhook", map[string]any{"url": hook.url(), "secret": "e2e-alerts-secret"},
		[]string{"threshold.crossed"})
	var a app
	s.Call("POST", "/environments/"+proj.Environments[0].ID+"/applications", map[string]any{"name": "burner", "image": image}, 201, &a)
	s.Call("PUT", "/applications/"+a.ID+"/variables", map[string]any{"variables": map[string]string{
		"CPU_MILLICORES": "600", "MEM_MB": "32"}}, 200, nil)

	type rule struct {
		ID     string `json:"id"`
		Status struct {
			State       string     `json:"state"`
			LastFiredAt *time.Time `json:"last_fired_at"`
		} `json:"status"`
	}
	var busy, never rule
	s.Call("POST", "/applications/"+a.ID+"/alert-rules", map[string]any{"metric": "cpu_percent", "threshold": 25,
		"duration_seconds": 15, "cooldown_seconds": 3600}, 201, &busy)
	s.Call("POST", "/applications/"+a.ID+"/alert-rules", map[string]any{"metric": "cpu_percent", "threshold": 400,
		"duration_seconds": 0}, 201, &never)
	start := time.Now()
	s.deployAndWait(a, "succeeded")

	// One event, once the CPU stayed above 25 % for 15 s.
	s.waitFor("a threshold.crossed event", 90*time.Second, func() bool {
		_, ok := hook.find(func(h hookRequest) bool { return h.Type == "threshold.crossed" && h.State == "firing" })
		return ok
	})
	t.Logf("threshold.crossed delivered %s after the deployment was queued", time.Since(start).Round(time.Second))
	s.Call("GET", "/alert-rules/"+busy.ID, nil, 200, &busy)
	if busy.Status.State != "firing" || busy.Status.LastFiredAt == nil {
		t.Errorf("the crossed rule's status = %+v, want firing with a last alert", busy.Status)
	}

	// The figures: the API's series and the Prometheus export.
	var series struct {
		Points []struct {
			Tasks        int     `json:"tasks"`
			CPUPercent   float64 `json:"cpu_percent"`
			MemUsedBytes uint64  `json:"mem_used_bytes"`
		} `json:"points"`
	}
	s.Call("GET", "/applications/"+a.ID+"/metrics?from="+start.Add(-time.Minute).UTC().Format(time.RFC3339), nil, 200, &series)
	if len(series.Points) == 0 {
		t.Fatal("no metrics points for the application")
	}
	last := series.Points[len(series.Points)-1]
	if last.Tasks != 1 || last.CPUPercent < 25 || last.CPUPercent > 75 || last.MemUsedBytes < 32<<20 {
		t.Errorf("latest point %+v: want 1 task near 60 %% CPU holding at least 32 MiB", last)
	}
	exported := s.prometheus()
	if !strings.Contains(exported, `berth_app_cpu_percent{app_id="`+a.ID+`"`) {
		t.Errorf("/metrics does not export the application's CPU:\n%.2000s", exported)
	}

	// Four more rounds: the cooldown (an hour) holds. On a busy machine
	// the burner may dip below the threshold for a round, which resolves
	// the alert (one "resolved" event) without a second "firing" one.
	time.Sleep(20 * time.Second)
	var firing, resolved int
	for _, h := range hook.got() {
		switch {
		case h.Type == "threshold.crossed" && h.State == "firing":
			firing++
		case h.Type == "threshold.crossed" && h.State == "resolved":
			resolved++
		default:
			t.Errorf("unexpected %s event (state %q)", h.Type, h.State)
		}
	}
	t.Logf("%d firing and %d resolved threshold.crossed events", firing, resolved)
	if firing != 1 || resolved > 1 {
		t.Errorf("%d firing and %d resolved events, want exactly 1 firing (the 400 %% rule never crossed, the 25 %% one cools down) and at most one resolved", firing, resolved)
	}
	s.Call("GET", "/alert-rules/"+never.ID, nil, 200, &never)
	if never.Status.State != "ok" || never.Status.LastFiredAt != nil {
		t.Errorf("the uncrossed rule's status = %+v, want ok, never fired", never.Status)
	}
	hook.requireNoErrors()
}

// prometheus returns berth's Prometheus export (/metrics, an administrator's key).
func (s *server) prometheus() string {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", s.URL("/metrics"), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	return string(body)
}
