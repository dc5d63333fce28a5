package e2e_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The repository's name on the hosted services.
const (
	forgeOwner = "acme"
	forgeRepo  = "shop"
)

// zeroCommit is the "before" of a branch's first push.
var zeroCommit = strings.Repeat("0", 40)

// connectForge starts a fake forge of kind serving repo as acme/shop,
// connects berth to it through the API (provider, base URL and token) and
// returns the application fields that use the connection.
func connectForge(t *testing.T, s *server, repo *gitRepo, kind forgeKind, provider string) gitHost {
	t.Helper()
	token := rand.Text()
	forge := newFakeForge(t, kind, token)
	forge.addRepository(forgeOwner, forgeRepo, repo)
	var conn struct {
		ID       string `json:"id"`
		Provider string `json:"provider"`
	}
	s.Call("POST", "/git-connections", map[string]any{"name": provider + "-e2e", "provider": provider, "base_url": forge.url,
		"credentials": map[string]any{"token": token}}, 201, &conn)
	if conn.Provider != "git."+provider {
		t.Fatalf("connection provider %q", conn.Provider)
	}
	return gitHost{
		app:        map[string]any{"git_connection_id": conn.ID, "git_repository": forgeOwner + "/" + forgeRepo},
		repository: forgeOwner + "/" + forgeRepo,
		web:        forge.url,
		statuses:   forge.statusLines,
	}
}

// hookRepository is a repository as GitHub and Gitea webhooks describe it.
func hookRepository(h gitHost) map[string]any {
	return map[string]any{"id": 1296269, "name": forgeRepo, "full_name": h.repository, "private": true,
		"owner": map[string]any{"login": forgeOwner, "id": 1}, "html_url": h.web + "/" + h.repository,
		"clone_url": h.web + "/" + h.repository + ".git", "default_branch": "main"}
}

// pushCommits is the commits list of a push payload: one commit, the head,
// changing paths.
func pushCommits(after string, changed []string) []map[string]any {
	if changed == nil {
		changed = []string{}
	}
	return []map[string]any{{"id": after, "message": "a change", "added": []string{}, "removed": []string{}, "modified": changed,
		"author": map[string]any{"name": "Dev", "email": "dev@example.com", "username": "dev"}}}
}

// pullRequestPayload is a pull_request payload as GitHub and Gitea send
// it (Gitea's mirrors GitHub's for these fields).
func pullRequestPayload(h gitHost, number int, action, headRef, headCommit string) map[string]any {
	return map[string]any{"action": action, "number": number, "pull_request": map[string]any{
		"number": number, "html_url": h.web + "/" + h.repository + "/pull/" + strconv.Itoa(number), "state": state(action),
		"title": "A change", "draft": false, "merged": false, "labels": []any{},
		"head": map[string]any{"label": forgeOwner + ":" + headRef, "ref": headRef, "sha": headCommit, "repo": hookRepository(h)},
		"base": map[string]any{"label": forgeOwner + ":main", "ref": "main", "repo": hookRepository(h)},
	}, "repository": hookRepository(h), "sender": map[string]any{"login": "dev", "id": 2}}
}

func state(action string) string {
	if action == "closed" {
		return "closed"
	}
	return "open"
}

// githubFormat is the git.github plugin against a fake GitHub Enterprise
// Server: webhooks with X-GitHub-Event and X-Hub-Signature-256.
var githubFormat = hookFormat{
	plugin: "github",
	host: func(t *testing.T, s *server, repo *gitRepo) gitHost {
		return connectForge(t, s, repo, githubKind, "github")
	},
	push: func(h gitHost, secret, branch, before, after string, changed []string) (http.Header, []byte) {
		if before == "" {
			before = zeroCommit
		}
		body, _ := json.Marshal(map[string]any{"ref": "refs/heads/" + branch, "before": before, "after": after,
			"created": before == zeroCommit, "deleted": false, "forced": false, "base_ref": nil,
			"compare": h.web + "/" + h.repository + "/compare/" + before[:12] + "..." + after[:12],
			"commits": pushCommits(after, changed), "head_commit": pushCommits(after, changed)[0],
			"repository": hookRepository(h), "pusher": map[string]any{"name": "dev", "email": "dev@example.com"},
			"sender": map[string]any{"login": "dev", "id": 2}})
		return githubHeaders("push", secret, body), body
	},
	pullRequest: func(h gitHost, secret string, number int, action, headRef, headCommit string) (http.Header, []byte) {
		body, _ := json.Marshal(pullRequestPayload(h, number, action, headRef, headCommit))
		return githubHeaders("pull_request", secret, body), body
	},
	ping: func(h gitHost, secret string) (http.Header, []byte) {
		body, _ := json.Marshal(map[string]any{"zen": "Keep it logically awesome.", "hook_id": 42,
			"hook": map[string]any{"type": "Repository", "id": 42, "active": true, "events": []string{"push", "pull_request"},
				"config": map[string]any{"content_type": "json", "insecure_ssl": "0", "url": "https://berth.example.com/hook"}},
			"repository": hookRepository(h), "sender": map[string]any{"login": "dev", "id": 2}})
		return githubHeaders("ping", secret, body), body
	},
	unsigned: func(h http.Header) http.Header {
		h.Del("X-Hub-Signature-256")
		h.Del("X-Hub-Signature")
		return h
	},
}

// githubHeaders are the headers of a GitHub webhook delivery: the event,
// a delivery id, and the body's HMAC signatures (SHA-256, and the legacy
// SHA-1 GitHub still sends).
func githubHeaders(event, secret string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/e2e")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", rand.Text())
	h.Set("X-GitHub-Hook-ID", "42")
	h.Set("X-Hub-Signature-256", "sha256="+hmacHex(secret, body))
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	h.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// giteaFormat is the git.gitea plugin against a fake Gitea: webhooks with
// X-Gitea-Event and the hex X-Gitea-Signature. Gitea has no ping event.
var giteaFormat = hookFormat{
	plugin: "gitea",
	host: func(t *testing.T, s *server, repo *gitRepo) gitHost {
		return connectForge(t, s, repo, giteaKind, "gitea")
	},
	push: func(h gitHost, secret, branch, before, after string, changed []string) (http.Header, []byte) {
		if before == "" {
			before = zeroCommit
		}
		body, _ := json.Marshal(map[string]any{"ref": "refs/heads/" + branch, "before": before, "after": after,
			"compare_url": h.web + "/" + h.repository + "/compare/" + before + "..." + after,
			"commits":     pushCommits(after, changed), "total_commits": 1, "head_commit": pushCommits(after, changed)[0],
			"repository": hookRepository(h), "pusher": map[string]any{"login": "dev", "id": 2},
			"sender": map[string]any{"login": "dev", "id": 2}})
		return giteaHeaders("push", secret, body), body
	},
	pullRequest: func(h gitHost, secret string, number int, action, headRef, headCommit string) (http.Header, []byte) {
		body, _ := json.Marshal(pullRequestPayload(h, number, action, headRef, headCommit))
		return giteaHeaders("pull_request", secret, body), body
	},
	unsigned: func(h http.Header) http.Header { h.Del("X-Gitea-Signature"); return h },
}

// giteaHeaders are the headers of a Gitea webhook delivery.
func giteaHeaders(event, secret string, body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Gitea-Event", event)
	h.Set("X-Gitea-Event-Type", event)
	h.Set("X-Gitea-Delivery", rand.Text())
	h.Set("X-Gitea-Signature", hmacHex(secret, body))
	return h
}
