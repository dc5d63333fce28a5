package gitlab

import (
	"testing"

	"github.com/berth-dev/berth/sdk"
)

func TestGitCredentials(t *testing.T) {
	for _, c := range []struct {
		name string
		in   *sdk.Credentials
		user string
		pass string
	}{
		{"token", &sdk.Credentials{Token: "glpat"}, "oauth2", "glpat"},
		{"token as password", &sdk.Credentials{Password: "glpat"}, "oauth2", "glpat"},
		{"deploy token", &sdk.Credentials{Username: "gitlab+deploy-token-1", Password: "gldt"}, "gitlab+deploy-token-1", "gldt"},
		{"ssh only", &sdk.Credentials{SSHPrivateKey: []byte("key")}, "", ""},
	} {
		got := gitCredentials(c.in)
		if got.Username != c.user || got.Password != c.pass || got.Token != "" || string(got.SSHPrivateKey) != string(c.in.SSHPrivateKey) {
			t.Errorf("%s: gitCredentials = %+v, want user %q, password %q", c.name, got, c.user, c.pass)
		}
	}
	if gitCredentials(nil) != nil {
		t.Errorf("gitCredentials(nil) is not nil")
	}
}

func TestAlreadyInState(t *testing.T) {
	for _, c := range []struct {
		message, state string
		want           bool
	}{
		{`Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via "enqueue")`, "pending", true},
		{`Cannot transition status via :succeed from :success`, "success", true},
		{`Cannot transition status via :enqueue from :running (Reason(s): Status cannot transition via "enqueue")`, "pending", false},
		{`Cannot transition status via :drop from :failed_other`, "failed", false},
		{`name is missing`, "pending", false},
	} {
		if got := alreadyInState(c.message, c.state); got != c.want {
			t.Errorf("alreadyInState(%q, %s) = %v, want %v", c.message, c.state, got, c.want)
		}
	}
}
