package hookevent

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestSetRef(t *testing.T) {
	for _, tt := range []struct {
		ref         string
		ok          bool
		typ         sdk.WebhookType
		branch, tag string
	}{
		{"refs/heads/main", true, sdk.WebhookPush, "main", ""},
		{"refs/heads/feature/x", true, sdk.WebhookPush, "feature/x", ""},
		{"refs/tags/v1.0.0", true, sdk.WebhookTag, "", "v1.0.0"},
		{"refs/pull/1/head", false, "", "", ""},
		{"main", false, "", "", ""},
	} {
		var ev sdk.WebhookEvent
		ok := SetRef(&ev, tt.ref)
		if ok != tt.ok || ev.Ref != tt.ref || ev.Type != tt.typ || ev.Branch != tt.branch || ev.Tag != tt.tag {
			t.Errorf("SetRef(%q) = %v, %+v", tt.ref, ok, ev)
		}
	}
}

func TestChangedPaths(t *testing.T) {
	commits := []Commit{
		{Added: []string{"b.go"}, Modified: []string{"a.go"}},
		{Modified: []string{"a.go", ""}, Removed: []string{"c.go"}},
	}
	if got, want := ChangedPaths(commits), []string{"a.go", "b.go", "c.go"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ChangedPaths = %v, want %v", got, want)
	}
	if got := ChangedPaths(nil); got != nil {
		t.Errorf("ChangedPaths(nil) = %v, want nil", got)
	}
}

func TestPullRequestEvent(t *testing.T) {
	var pr PullRequest
	payload := `{"html_url": "https://git.example.com/o/r/pulls/7", "title": "Add x", "labels": [{"name": "preview"}, {"name": "bug"}, {"name": "preview"}],
		"head": {"ref": "feature", "sha": "abc123", "repo": {"full_name": "fork/r", "clone_url": "https://git.example.com/fork/r.git"}}, "base": {"ref": "main"}}`
	if err := json.Unmarshal([]byte(payload), &pr); err != nil {
		t.Fatal(err)
	}
	ev := pr.Event("opened", 7, Repository{FullName: "o/r", CloneURL: "https://git.example.com/o/r.git"}, "alice")
	want := &sdk.WebhookEvent{
		Type: sdk.WebhookPullRequest, Repository: "o/r", CloneURL: "https://git.example.com/o/r.git",
		Ref: "refs/heads/feature", Branch: "feature", Commit: "abc123", Sender: "alice",
		PullRequest: &sdk.PullRequest{
			Number: 7, Action: "opened", Title: "Add x", HeadRef: "feature", HeadCommit: "abc123", BaseRef: "main",
			URL: "https://git.example.com/o/r/pulls/7", Labels: []string{"bug", "preview"},
			HeadRepository: "fork/r", HeadCloneURL: "https://git.example.com/fork/r.git",
		},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("Event = %+v\n%+v\nwant %+v\n%+v", ev, ev.PullRequest, want, want.PullRequest)
	}
}
