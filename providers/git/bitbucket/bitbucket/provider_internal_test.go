package bitbucket

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/berth-dev/berth/sdk"
)

func TestConnectDerivesHosts(t *testing.T) {
	for _, c := range []struct{ base, api, web string }{
		{"", "https://api.bitbucket.org/2.0", "https://bitbucket.org"},
		{"https://api.bitbucket.org/2.0/", "https://api.bitbucket.org/2.0", "https://bitbucket.org"},
		{"https://api.bitbucket.org", "https://api.bitbucket.org/2.0", "https://bitbucket.org"},
		{"https://bitbucket.org", "https://api.bitbucket.org/2.0", "https://bitbucket.org"},
		{"http://127.0.0.1:8080/2.0", "http://127.0.0.1:8080/2.0", "http://127.0.0.1:8080"},
	} {
		conn, err := New().connect(&sdk.Credentials{BaseURL: c.base})
		if err != nil {
			t.Fatalf("connect(%q): %v", c.base, err)
		}
		if got := conn.API.Base.String(); got != c.api {
			t.Errorf("connect(%q): API %s, want %s", c.base, got, c.api)
		}
		if got := conn.Host.Web.String(); got != c.web {
			t.Errorf("connect(%q): web %s, want %s", c.base, got, c.web)
		}
	}
}

func TestGitCredentials(t *testing.T) {
	key := []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n...")
	for _, c := range []struct {
		name string
		in   *sdk.Credentials
		want *sdk.Credentials
	}{
		{"none", nil, nil},
		{"access token", &sdk.Credentials{Token: "tok"}, &sdk.Credentials{Username: "x-token-auth", Password: "tok"}},
		{"token wins", &sdk.Credentials{Token: "tok", Username: "emma", Password: "pw"}, &sdk.Credentials{Username: "x-token-auth", Password: "tok"}},
		{"app password", &sdk.Credentials{Username: "emma", Password: "pw"}, &sdk.Credentials{Username: "emma", Password: "pw"}},
		{"API token with email", &sdk.Credentials{Username: "emma@example.com", Password: "tok"}, &sdk.Credentials{Username: "x-bitbucket-api-token-auth", Password: "tok"}},
		{"ssh key", &sdk.Credentials{SSHPrivateKey: key}, &sdk.Credentials{SSHPrivateKey: key}},
	} {
		got := gitCredentials(c.in)
		if (got == nil) != (c.want == nil) || got != nil && (got.Username != c.want.Username || got.Password != c.want.Password || got.Token != "" || string(got.SSHPrivateKey) != string(c.want.SSHPrivateKey)) {
			t.Errorf("%s: gitCredentials = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestStatusKey(t *testing.T) {
	for _, context := range []string{
		"berth", "berth/deploy", strings.Repeat("k", 40),
		strings.Repeat("k", 41), "berth/deploy/" + strings.Repeat("é", 40), strings.Repeat("€", 30),
	} {
		key := statusKey(context)
		if len(key) > 40 || !utf8.ValidString(key) {
			t.Errorf("statusKey(%q) = %q: longer than 40 bytes or not UTF-8", context, key)
		}
		if len(context) <= 40 && key != context {
			t.Errorf("statusKey(%q) = %q, want it unchanged", context, key)
		}
		if statusKey(context) != key {
			t.Errorf("statusKey(%q) is not stable", context)
		}
	}
	if statusKey(strings.Repeat("a", 50)) == statusKey(strings.Repeat("a", 49)) {
		t.Errorf("different long contexts share a key")
	}
}
