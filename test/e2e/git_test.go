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

// gitHost is where one run of the test keeps its repository: the
// application fields that point berth at it, and the commit statuses berth
// posted there.
type gitHost struct {
	// app holds git_repository and git_provider or git_connection_id.
	app map[string]any
	// repository is the repository as the host's webhooks name it.
	repository string
	// web is the host's web root (clone URLs are web/repository.git).
	web string
	// statuses returns the statuses posted for a commit, one
	// "state context target_url" line each.
	statuses func(commit string) string
}

// hookFormat is a git provider as the test drives it: the host its
// repository lives on and the webhooks that host sends. The push-to-deploy
// and preview tests run once per provider plugin.
type hookFormat struct {
	// plugin is the provider's id without "git.".
	plugin string
	// host puts repo on the provider's host for server s.
	host func(t *testing.T, s *server, repo *gitRepo) gitHost
	// push returns the headers and body of a signed push webhook.
	push func(h gitHost, secret, branch, before, after string, changed []string) (http.Header, []byte)
	// pullRequest returns a signed pull request webhook.
	pullRequest func(h gitHost, secret string, number int, action, headRef, headCommit string) (http.Header, []byte)
	// ping returns the signed delivery the host sends to test a new
	// webhook; nil when the host has no such event.
	ping func(h gitHost, secret string) (http.Header, []byte)
	// unsigned drops the signature from a delivery's headers.
	unsigned func(h http.Header) http.Header
}

// exampleFormat is the SDK example provider's own signed format; its
// repository is a local path and its statuses are git notes.
var exampleFormat = hookFormat{
	plugin: "example",
	host: func(t *testing.T, s *server, repo *gitRepo) gitHost {
		return gitHost{app: map[string]any{"git_repository": repo.Dir, "git_provider": "example"}, repository: repo.Dir,
			statuses: func(commit string) string {
				out, _ := exec.Command("git", "-C", repo.Dir, "notes", "--ref=berth-status", "show", commit).CombinedOutput()
				return string(out)
			}}
	},
	push: func(h gitHost, secret, branch, before, after string, changed []string) (http.Header, []byte) {
		body, _ := json.Marshal(map[string]any{"repository": h.repository, "ref": "refs/heads/" + branch, "before": before,
			"after": after, "changed": changed, "sender": "dev"})
		return exampleHeaders("push", secret, body), body
	},
	pullRequest: func(h gitHost, secret string, number int, action, headRef, headCommit string) (http.Header, []byte) {
		body, _ := json.Marshal(map[string]any{"repository": h.repository, "pull_request": map[string]any{"number": number,
			"action": action, "title": "A change", "head_ref": headRef, "head_commit": headCommit, "base_ref": "main"}})
		return exampleHeaders("pull_request", secret, body), body
	},
	unsigned: func(h http.Header) http.Header { h.Del("X-Berth-Example-Signature"); return h },
}

func exampleHeaders(event, secret string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Berth-Example-Event", event)
	h.Set("X-Berth-Example-Signature", "sha256="+hmacHex(secret, body))
	return h
}

// hmacHex is the hex HMAC-SHA256 of body keyed with secret.
func hmacHex(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// TestPushToDeployAndPreviews: a signed push webhook deploys, a push to
// another branch does not, a pull request opens a preview at its own host
// through Traefik, and closing it removes the preview; once per provider
// plugin, the hosted ones against a local stand-in for their service.
func TestPushToDeployAndPreviews(t *testing.T) {
	for _, f := range []hookFormat{exampleFormat, githubFormat, giteaFormat} {
		t.Run(f.plugin, func(t *testing.T) { testPushToDeployAndPreviews(t, f) })
	}
}

func testPushToDeployAndPreviews(t *testing.T, f hookFormat) {
	s := newServer(t)
	repo := newRepo(t)
	repo.Commit("v1", map[string]string{"app": "@backend", "Dockerfile": dockerfile("hello-v1")})
	first := repo.Git("-C", repo.Dir, "rev-parse", "HEAD")

	gh := f.host(t, s, repo)
	host := f.plugin + "-push.e2e.test"
	spec := map[string]any{"name": "hooked", "git_ref": "main", "build_type": "dockerfile", "port": 8080,
		"preview": map[string]any{"enabled": true, "host_pattern": "pr-{number}.{app}.preview.e2e.test"}}
	for k, v := range gh.app {
		spec[k] = v
	}
	a := s.newApp(spec, host)
	var hook struct {
		GitURL string `json:"git_url"`
		Secret string `json:"secret"`
	}
	s.Call("GET", "/applications/"+a.ID+"/webhook", nil, 200, &hook)
	if hook.Secret == "" || hook.GitURL == "" {
		t.Fatalf("webhook info %+v", hook)
	}
	u, _ := url.Parse(hook.GitURL)
	hookPath := u.Path

	// The host's test delivery is answered; bad and missing signatures are refused.
	if f.ping != nil {
		h, body := f.ping(gh, hook.Secret)
		if status, answer := s.webhook(hookPath, h, body); status != 200 || !strings.Contains(string(answer), `"ignored"`) {
			t.Fatalf("ping: %d %s", status, answer)
		}
	}
	h, body := f.push(gh, "wrong secret", "main", "", first, nil)
	if status, answer := s.webhook(hookPath, h, body); status != 401 {
		t.Fatalf("badly signed push: %d %s", status, answer)
	}
	h, body = f.push(gh, hook.Secret, "main", "", first, nil)
	if status, answer := s.webhook(hookPath, f.unsigned(h), body); status != 401 {
		t.Fatalf("unsigned push: %d %s", status, answer)
	}

	// A signed push to the application's branch deploys it.
	repo.Commit("v2", map[string]string{"Dockerfile": dockerfile("hello-v2")})
	second := repo.Git("-C", repo.Dir, "rev-parse", "HEAD")
	h, body = f.push(gh, hook.Secret, "main", first, second, []string{"Dockerfile"})
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
	s.Call("GET", "/deployments/"+d.ID, nil, 200, &rec)
	if rec.Trigger != "push" || rec.CommitSHA != second {
		t.Errorf("deployment trigger %q commit %q, want push %s", rec.Trigger, rec.CommitSHA, second)
	}
	s.Expect(host, "/", 200, "hello-v2 /")
	if st := gh.statuses(second); !strings.Contains(st, "success berth/deploy") {
		t.Errorf("commit status on %s = %q, want success berth/deploy", second, st)
	}

	// A push to another branch deploys nothing.
	repo.Git("-C", repo.Dir, "checkout", "-q", "-b", "other")
	repo.Commit("other", map[string]string{"Dockerfile": dockerfile("hello-other")})
	other := repo.Git("-C", repo.Dir, "rev-parse", "HEAD")
	h, body = f.push(gh, hook.Secret, "other", second, other, []string{"Dockerfile"})
	if status, answer := s.webhook(hookPath, h, body); status != 200 || !strings.Contains(string(answer), "skipped") {
		t.Fatalf("push to another branch: %d %s", status, answer)
	}
	var list struct {
		Items []deployment `json:"items"`
	}
	s.Call("GET", "/applications/"+a.ID+"/deployments", nil, 200, &list)
	if len(list.Items) != 1 {
		t.Fatalf("deployments after a push to another branch = %d, want 1", len(list.Items))
	}

	// A pull request opens a preview at its own host with the PR's code.
	repo.Git("-C", repo.Dir, "checkout", "-q", "-b", "feature", "main")
	repo.Commit("feature", map[string]string{"Dockerfile": dockerfile("hello-pr")})
	head := repo.Git("-C", repo.Dir, "rev-parse", "HEAD")
	repo.Git("-C", repo.Dir, "checkout", "-q", "main")
	h, body = f.pullRequest(gh, hook.Secret, 7, "opened", "feature", head)
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
	s.Expect(previewHost, "/", 200, "hello-pr /")
	s.Expect(host, "/", 200, "hello-v2 /")
	if st := gh.statuses(head); !strings.Contains(st, "success berth/preview") || !strings.Contains(st, previewHost) {
		t.Errorf("commit status on the PR head = %q, want success berth/preview with the preview URL", st)
	}
	var previews struct {
		Items []struct {
			ID          string `json:"id"`
			ServiceName string `json:"service_name"`
		} `json:"items"`
	}
	s.Call("GET", "/applications/"+a.ID+"/previews", nil, 200, &previews)
	if len(previews.Items) != 1 || previews.Items[0].ID != opened.PreviewID {
		t.Fatalf("previews = %+v", previews.Items)
	}
	var apps struct {
		Items []app `json:"items"`
	}
	s.Call("GET", "/applications", nil, 200, &apps)
	for _, x := range apps.Items {
		if x.ID == opened.PreviewID {
			t.Errorf("the preview is listed among applications")
		}
	}

	// Closing it removes the preview: service gone, host 404.
	h, body = f.pullRequest(gh, hook.Secret, 7, "closed", "feature", head)
	if status, answer := s.webhook(hookPath, h, body); status != 200 || !strings.Contains(string(answer), "removed_preview_id") {
		t.Fatalf("pull request closed: %d %s", status, answer)
	}
	if _, _, err := s.Docker.ServiceInspectWithRaw(context.Background(), previews.Items[0].ServiceName, swarm.ServiceInspectOptions{}); err == nil {
		t.Errorf("preview service %s still exists", previews.Items[0].ServiceName)
	}
	s.Expect(previewHost, "/", 404, "")
	s.Call("GET", "/applications/"+opened.PreviewID, nil, 404, nil)
	s.Expect(host, "/", 200, "hello-v2 /")

	// The generic deploy URL for CI needs the deploy token.
	var token struct {
		Token     string `json:"token"`
		DeployURL string `json:"deploy_url"`
	}
	s.Call("POST", "/applications/"+a.ID+"/webhook/deploy-token", nil, 201, &token)
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
	req, _ := http.NewRequest("POST", "http://"+s.Addr+path, bytes.NewReader(body))
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
