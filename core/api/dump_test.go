package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/pgembed"
	"github.com/berth-dev/berth/core/snapshot"
	"github.com/berth-dev/berth/core/store"
)

func selfSigned(t *testing.T, host string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// TestDatabaseDumpHoldsNoPlaintextSecret dumps the whole database with
// pg_dump after storing every kind of secret berth keeps.
func TestDatabaseDumpHoldsNoPlaintextSecret(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	const secretValue = "PLAINTEXT-SECRET-7f3a9c"
	h.must(200, h.do("PUT", "/api/v1/projects/"+f.projectID+"/variables/SHARED", f.key, map[string]any{"value": secretValue + "-project"}))
	h.must(200, h.do("PUT", "/api/v1/environments/"+f.envID+"/variables/ENV", f.key, map[string]any{"value": secretValue + "-env"}))
	h.must(200, h.do("PUT", "/api/v1/applications/"+f.appID+"/variables/APP", f.key, map[string]any{"value": secretValue + "-app"}))
	h.must(200, h.do("PATCH", "/api/v1/applications/"+f.appID, f.key, map[string]any{"files": []map[string]any{
		{"target": "/etc/app/credentials.ini", "content": "password=" + secretValue + "-file"}},
		"git_credentials": map[string]any{"token": secretValue + "-gittoken"}}))
	if raw := h.do("GET", "/api/v1/applications/"+f.appID, f.key, nil); strings.Contains(string(raw.Body), secretValue) {
		t.Fatalf("the API returned a file's content or a git token: %s", raw.Body)
	} else if !strings.Contains(string(raw.Body), `"git_credentials_set":true`) {
		t.Fatalf("git_credentials_set missing: %s", raw.Body)
	}
	cert, key := selfSigned(t, "secure.example.com")
	var d store.Domain
	h.must(201, h.do("POST", "/api/v1/applications/"+f.appID+"/domains", f.key, map[string]any{
		"host": "secure.example.com", "https": "custom", "certificate_pem": cert, "private_key_pem": key})).json(t, &d)
	if strings.Contains(string(h.do("GET", "/api/v1/domains/"+d.ID.String(), f.key, nil).Body), "PRIVATE KEY") {
		t.Fatal("the API returned a private key")
	}

	// A release snapshot holds the resolved environment and the files.
	app, err := h.store.GetApplication(context.Background(), uuid.MustParse(f.appID))
	if err != nil {
		t.Fatal(err)
	}
	dep, err := h.store.CreateDeployment(context.Background(), app.ID, store.NewDeployment{Kind: store.KindDeploy})
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Save(context.Background(), h.store, dep.ID, snapshot.Of(app, "nginx", map[string]string{"APP": secretValue + "-snapshot"})); err != nil {
		t.Fatal(err)
	}

	binDir, _, err := pgembed.FindBinDir(context.Background())
	if err != nil {
		t.Fatalf("pg_dump is needed: %v", err)
	}
	out, err := exec.Command(filepath.Join(binDir, "pg_dump"), "--dbname="+h.dbURL, "--no-owner").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	dump := string(out)
	if !strings.Contains(dump, "COPY public.variables") {
		t.Fatal("dump does not contain the variables table; the check would be vacuous")
	}
	keyBody := strings.Split(key, "\n")[1] // a line of base64 from the private key
	for name, plain := range map[string]string{
		"variable value":   secretValue,
		"private key":      keyBody,
		"password":         password,
		"api key token":    f.key,
		"api key token id": strings.TrimPrefix(f.key, "berth_"),
	} {
		if strings.Contains(dump, plain) {
			t.Errorf("database dump contains a plaintext %s", name)
		}
	}
	// The resolved values still come back decrypted through the API.
	var res struct {
		Variables map[string]string `json:"variables"`
	}
	h.must(200, h.do("GET", "/api/v1/applications/"+f.appID+"/variables/resolved", f.key, nil)).json(t, &res)
	if res.Variables["APP"] != secretValue+"-app" {
		t.Fatalf("resolved APP = %q", res.Variables["APP"])
	}
}
