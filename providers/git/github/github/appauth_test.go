package github

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

func TestAppInstallationTokenIsExchangedAndReused(t *testing.T) {
	p, f, clk := setup(t)
	creds := appCreds(t, f)
	list := func() {
		t.Helper()
		r, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: creds})
		if err != nil {
			t.Fatalf("ListRepositories as the app: %v", err)
		}
		if len(r.Repositories) != 1 || r.Repositories[0].FullName != "octo-org/hello-world" {
			t.Fatalf("installation repositories %+v", r.Repositories)
		}
	}
	list()
	list()
	if n := f.exchangeCount(); n != 1 {
		t.Fatalf("%d token exchanges for two calls, want 1 (the token is cached)", n)
	}
	clk.Advance(58*time.Minute + 30*time.Second) // the token has 90s left
	list()
	if n := f.exchangeCount(); n != 1 {
		t.Fatalf("%d token exchanges with 90s left on the token, want 1", n)
	}
	clk.Advance(time.Minute) // 30s left: within the one-minute margin
	list()
	if n := f.exchangeCount(); n != 2 {
		t.Fatalf("%d token exchanges after the token neared expiry, want 2", n)
	}
	// Another installation key is another cache entry.
	other := *creds
	otherApp := *creds.App
	otherApp.InstallationID = "100"
	other.App = &otherApp
	_, err := p.ListRepositories(t.Context(), &sdk.ListRepositoriesRequest{Credentials: &other})
	if !errors.Is(err, sdk.ErrNotFound) || !strings.Contains(err.Error(), "installation 100") {
		t.Errorf("unknown installation: %v, want sdk.ErrNotFound naming the installation", err)
	}
}

func TestAppCredentialErrors(t *testing.T) {
	p, f, _ := setup(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(appKey(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		app  sdk.AppCredentials
		want error
	}{
		{"PKCS#8 key", sdk.AppCredentials{AppID: testAppID, InstallationID: testInstallationID, PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})}, nil},
		{"not PEM", sdk.AppCredentials{AppID: testAppID, InstallationID: testInstallationID, PrivateKey: []byte("not a key")}, sdk.ErrInvalidArgument},
		{"bad installation id", sdk.AppCredentials{AppID: testAppID, InstallationID: "../1", PrivateKey: appKeyPEM(t)}, sdk.ErrInvalidArgument},
		{"bad app id", sdk.AppCredentials{AppID: "a/b", InstallationID: testInstallationID, PrivateKey: appKeyPEM(t)}, sdk.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := tt.app
			_, err := p.ListBranches(t.Context(), &sdk.ListBranchesRequest{Repository: "octo-org/hello-world", Credentials: &sdk.Credentials{BaseURL: f.apiURL(), App: &app}})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppJWTClaims(t *testing.T) {
	now := time.Unix(1714557600, 0)
	for _, tt := range []struct{ appID, wantIss string }{{"424242", "424242"}, {"Iv23liABCdef", `"Iv23liABCdef"`}} {
		jwt, err := signAppJWT(tt.appID, appKey(t), now)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyAppJWT(jwt, &appKey(t).PublicKey, tt.appID, now); err != nil {
			t.Errorf("app %s: %v", tt.appID, err)
		}
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[1])
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(b, &claims); err != nil {
			t.Fatal(err)
		}
		if string(claims["iss"]) != tt.wantIss || string(claims["iat"]) != "1714557540" || string(claims["exp"]) != "1714558140" {
			t.Errorf("claims %s, want iss %s, iat now-60s, exp now+9m", b, tt.wantIss)
		}
	}
}
