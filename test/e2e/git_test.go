package e2e_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"
)

// hookFormat is a git provider's webhook shape as the test sends it. The
// push-to-deploy and preview tests run once per provider plugin.
type hookFormat struct {
	// plugin is the provider's id without "git.", as applications name it.
	plugin string
	// push returns the headers and body of a signed push webhook.
	push func(secret, repo, branch, before, after string, changed []string) (http.Header, []byte)
	// pullRequest returns a signed pull request webhook.
	pullRequest func(secret, repo string, number int, action, headRef, headCommit string) (http.Header, []byte)
	// statuses returns the commit statuses the provider recorded for a commit.
	statuses func(t *testing.T, repo *gitRepo, commit string) string
}

// exampleFormat is the SDK example provider's own signed format.
var exampleFormat = hookFormat{
	plugin: "example",
	push: func(secret, repo, branch, before, after string, changed []string) (http.Header, []byte) {
		body, _ := json.Marshal(map[string]any{"repository": repo, "ref": "refs/heads/" + branch, "before": before,
			"after": after, "changed": changed, "sender": "dev"})
		return exampleHeaders("push", secret, body), body
	},
	pullRequest: func(secret, repo string, number int, action, headRef, headCommit string) (http.Header, []byte) {
		body, _ := json.Marshal(map[string]any{"repository": repo, "pull_request": map[string]any{"number": number,
			"action": action, "title": "A change", "head_ref": headRef, "head_commit": headCommit, "base_ref": "main"}})
		return exampleHeaders("pull_request", secret, body), body
	},
	statuses: func(t *testing.T, repo *gitRepo, commit string) string {
		out, _ := exec.Command("git", "-C", repo.dir, "notes", "--ref=berth-status", "show", commit).CombinedOutput()
		return string(out)
	},
}

func exampleHeaders(event, secret string, body []byte) http.Header {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Berth-Example-Event", event)
	h.Set("X-Berth-Example-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// TestPushToDeployAndPreviews: a signed push webhook deploys, a push to
// another branch does not, a pull request opens a preview at its own host
// through Traefik, and closing it removes the preview.
func TestPushToDeployAndPreviews(t *testing.T) {
	testPushToDeployAndPreviews(t, exampleFormat)
}

func testPushToDeployAndPreviews(t *testing.T, f hookFormat) {
	s := newServer(t)
	repo := newRepo(t)
	repo.commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("hello-v1")})
	first := repo.git("-C", repo.dir, "rev-parse", "HEAD")

	host := f.plugin + "-push.e2e.test"
	a := s.newApp(map[string]any{"name": "hooked", "git_repository": repo.dir, "git_ref": "main", "git_provider": f.plugin,
		"build_type": "dockerfile", "port": 8080,
		"preview": map[string]any{"enabled": true, "host_pattern": "pr-{number}.{app}.preview.e2e.test"}}, host)
	var hook struct {
		GitURL string `json:"git_url"`
		Secret string `json:"secret"`
	}
	s.call("GET", "/applications/"+a.ID+"/webhook", nil, 200, &hook)
	if hook.Secret == "" || hook.GitURL == "" {
		t.Fatalf("webhook info %+v", hook)
	}
	u, _ := url.Parse(hook.GitURL)
	hookPath := u.Path

	// A bad signature is refused.
	h, body := f.push("wrong secret", repo.dir, "main", "", first, nil)
	if status, answer := s.webhook(hookPath, h, body); status != 401 {
		t.Fatalf("badly signed push: %d %s", status, answer)
	}

	// A signed push to the application's branch deploys it.
	repo.commit("v2", map[string]string{"Dockerfile": dockerfile("hello-v2")})
	second := repo.git("-C", repo.dir, "rev-parse", "HEAD")
	h, body = f.push(hook.Secret, repo.dir, "main", first, second, []string{"Dockerfile"})
	status, answer := s.webhook(hookPath, h, body)
	if status != 202 {
		t.Fatalf("push: %d %s", status, answer)
	}
	var queued struct {
		DeploymentID string `json:"deployment_id"`
	}
	json.Unmarshal(answer, &queued)
	d := s.wait(queued.DeploymentID, 3*time.Minute, finished)
	if d.Status != "succeeded" {
		t.Fatalf("push deployment %s: %s\n%s", d.Status, d.Error, s.logText(d.ID))
	}
	var rec struct {
		Trigger   string `json:"trigger"`
		CommitSHA string `json:"commit_sha"`
	}
	s.call("GET", "/deployments/"+d.ID, nil, 200, &rec)
	if rec.Trigger != "push" || rec.CommitSHA != second {
		t.Errorf("deployment trigger %q commit %q, want push %s", rec.Trigger, rec.CommitSHA, second)
	}
	s.expect(host, "/", 200, "hello-v2 /")
	if st := f.statuses(t, repo, second); !strings.Contains(st, "success berth/deploy") {
		t.Errorf("commit status on %s = %q, want success berth/deploy", second, st)
	}

	// A push to another branch deploys nothing.
	repo.git("-C", repo.dir, "checkout", "-q", "-b", "other")
	repo.commit("other", map[string]string{"Dockerfile": dockerfile("hello-other")})
	other := repo.git("-C", repo.dir, "rev-parse", "HEAD")
	h, body = f.push(hook.Secret, repo.dir, "other", second, other, []string{"Dockerfile"})
	if status, answer := s.webhook(hookPath, h, body); status != 200 || !strings.Contains(string(answer), "skipped") {
		t.Fatalf("push to another branch: %d %s", status, answer)
	}
	var list struct {
		Items []deployment `json:"items"`
	}
	s.call("GET", "/applications/"+a.ID+"/deployments", nil, 200, &list)
	if len(list.Items) != 1 {
		t.Fatalf("deployments after a push to another branch = %d, want 1", len(list.Items))
	}

	// A pull request opens a preview at its own host with the PR's code.
	repo.git("-C", repo.dir, "checkout", "-q", "-b", "feature", "main")
	repo.commit("feature", map[string]string{"Dockerfile": dockerfile("hello-pr")})
	head := repo.git("-C", repo.dir, "rev-parse", "HEAD")
	repo.git("-C", repo.dir, "checkout", "-q", "main")
	h, body = f.pullRequest(hook.Secret, repo.dir, 7, "opened", "feature", head)
	status, answer = s.webhook(hookPath, h, body)
	if status != 202 {
		t.Fatalf("pull request opened: %d %s", status, answer)
	}
	var opened struct {
		DeploymentID string `json:"deployment_id"`
		PreviewID    string `json:"preview_id"`
		URL          string `json:"url"`
	}
	json.Unmarshal(answer, &opened)
	previewHost := "pr-7.hooked.preview.e2e.test"
	if opened.URL != "http://"+previewHost+"/" {
		t.Errorf("preview url %q", opened.URL)
	}
	d = s.wait(opened.DeploymentID, 3*time.Minute, finished)
	if d.Status != "succeeded" {
		t.Fatalf("preview deployment %s: %s\n%s", d.Status, d.Error, s.logText(d.ID))
	}
	s.expect(previewHost, "/", 200, "hello-pr /")
	s.expect(host, "/", 200, "hello-v2 /")
	if st := f.statuses(t, repo, head); !strings.Contains(st, "success berth/preview") || !strings.Contains(st, previewHost) {
		t.Errorf("commit status on the PR head = %q, want success berth/preview with the preview URL", st)
	}
	var previews struct {
		Items []struct {
			ID          string `json:"id"`
			ServiceName string `json:"service_name"`
		} `json:"items"`
	}
	s.call("GET", "/applications/"+a.ID+"/previews", nil, 200, &previews)
	if len(previews.Items) != 1 || previews.Items[0].ID != opened.PreviewID {
		t.Fatalf("previews = %+v", previews.Items)
	}
	var apps struct {
		Items []app `json:"items"`
	}
	s.call("GET", "/applications", nil, 200, &apps)
	for _, x := range apps.Items {
		if x.ID == opened.PreviewID {
			t.Errorf("the preview is listed among applications")
		}
	}

	// Closing it removes the preview: service gone, host 404.
	h, body = f.pullRequest(hook.Secret, repo.dir, 7, "closed", "feature", head)
	if status, answer := s.webhook(hookPath, h, body); status != 200 || !strings.Contains(string(answer), "removed_preview_id") {
		t.Fatalf("pull request closed: %d %s", status, answer)
	}
	if _, _, err := s.docker.ServiceInspectWithRaw(context.Background(), previews.Items[0].ServiceName, swarm.ServiceInspectOptions{}); err == nil {
		t.Errorf("preview service %s still exists", previews.Items[0].ServiceName)
	}
	s.expect(previewHost, "/", 404, "")
	s.call("GET", "/applications/"+opened.PreviewID, nil, 404, nil)
	s.expect(host, "/", 200, "hello-v2 /")

	// The generic deploy URL for CI needs the deploy token.
	var token struct {
		Token     string `json:"token"`
		DeployURL string `json:"deploy_url"`
	}
	s.call("POST", "/applications/"+a.ID+"/webhook/deploy-token", nil, 201, &token)
	du, _ := url.Parse(token.DeployURL)
	if status, answer := s.webhook(du.Path+"?token=wrong", http.Header{}, nil); status != 401 {
		t.Fatalf("deploy URL with a wrong token: %d %s", status, answer)
	}
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+token.Token)
	status, answer = s.webhook(du.Path, hdr, nil)
	if status != 202 {
		t.Fatalf("deploy URL: %d %s", status, answer)
	}
	json.Unmarshal(answer, &queued)
	if d := s.wait(queued.DeploymentID, 3*time.Minute, finished); d.Status != "succeeded" {
		t.Fatalf("CI deployment %s: %s", d.Status, d.Error)
	}
}

// webhook posts to a webhook path of the server without API credentials.
func (s *server) webhook(path string, h http.Header, body []byte) (int, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest("POST", "http://"+s.addr+path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("webhook %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}
