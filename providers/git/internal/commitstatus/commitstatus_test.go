package commitstatus

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestNew(t *testing.T) {
	sha := strings.Repeat("a", 40)
	body, err := New("test", &sdk.SetCommitStatusRequest{Commit: sha, State: sdk.CommitFailure, Description: "  " + strings.Repeat("x", 20) + " ", TargetURL: "https://berth.example.com/d/1"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := Body{State: "failure", TargetURL: "https://berth.example.com/d/1", Description: "xxxxxxxxx…", Context: "berth"}
	if *body != want {
		t.Errorf("body %+v, want %+v", *body, want)
	}
	for name, req := range map[string]sdk.SetCommitStatusRequest{
		"short sha":     {Commit: sha[:12], State: sdk.CommitSuccess},
		"sha-256 short": {Commit: strings.Repeat("b", 63), State: sdk.CommitSuccess},
		"not hex":       {Commit: strings.Repeat("g", 40), State: sdk.CommitSuccess},
		"state":         {Commit: sha, State: "warning"},
		"target":        {Commit: sha, State: sdk.CommitSuccess, TargetURL: "file:///etc/passwd"},
	} {
		if _, err := New("test", &req, 140); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%s: %v, want sdk.ErrInvalidArgument", name, err)
		}
	}
}
