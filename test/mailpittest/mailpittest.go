// Package mailpittest runs Mailpit (https://mailpit.axllent.org), a real
// SMTP server with an HTTP API showing what it received, on loopback for
// the tests of notifier.email and the end-to-end notification tests.
//
// The binary is built from the Go module proxy into
// <repo>/.cache/mailpit/<Version>/mailpit by the fixture script
// scripts/fixtures/40-mailpit.sh, which `make test-deps` (and so `make
// test`) runs. Tests fail, never skip or build it, when it is missing.
package mailpittest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Version is the Mailpit release the tests run.
const Version = "v1.27.11"

// Module is Mailpit's Go module.
const Module = "github.com/axllent/mailpit"

// Options configure a server.
type Options struct {
	// TLS serves STARTTLS with a certificate for 127.0.0.1 (CAPEM trusts
	// it); with RequireTLS the SMTP port speaks implicit TLS instead.
	TLS        bool
	RequireTLS bool
	// RequireSTARTTLS refuses mail before STARTTLS.
	RequireSTARTTLS bool
	// Users maps SMTP usernames to passwords; empty: no authentication.
	Users map[string]string
}

// Server is a running Mailpit.
type Server struct {
	// SMTPHost and SMTPPort are the SMTP server's address.
	SMTPHost string
	SMTPPort int
	// API is the base URL of the HTTP API.
	API string
	// CAPEM is the PEM certificate to trust with Options.TLS.
	CAPEM string
}

// Script is the fixture script, relative to the repository, that builds
// the binary Binary returns (`make test-deps` runs it).
const Script = "scripts/fixtures/40-mailpit.sh"

// Path returns where the fixture script puts Mailpit Version:
// <root>/.cache/mailpit/<Version>/mailpit.
func Path(root string) string {
	return filepath.Join(root, ".cache", "mailpit", Version, "mailpit")
}

// Binary returns the path of the Mailpit binary the fixture script built
// (Path); it fails the test, saying to run `make test-deps`, when the
// binary is missing. It never builds it: tests do not reach the module
// proxy on their own.
func Binary(t testing.TB) string {
	t.Helper()
	bin := Path(repoRoot(t))
	fi, err := os.Stat(bin)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("mailpit %s is missing at %s: run `make test-deps` (it runs %s, which builds it with "+
			"GOBIN=<that directory> go install %s@%s)", Version, bin, Script, Module, Version)
	}
	return bin
}

// repoRoot finds the berth repository above the working directory.
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module github.com/berth-dev/berth\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("mailpit: no berth repository (go.mod of github.com/berth-dev/berth) above the working directory")
		}
		dir = parent
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a Mailpit on free loopback ports until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	s := &Server{SMTPHost: "127.0.0.1", SMTPPort: freePort(t)}
	httpPort := freePort(t)
	s.API = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	args := []string{
		"--smtp", fmt.Sprintf("127.0.0.1:%d", s.SMTPPort), "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "mailpit.db"), "--disable-version-check", "--smtp-disable-rdns", "--quiet",
	}
	if o.TLS || o.RequireTLS {
		s.CAPEM = selfSigned(t, dir)
		args = append(args, "--smtp-tls-cert", filepath.Join(dir, "cert.pem"), "--smtp-tls-key", filepath.Join(dir, "key.pem"))
	}
	if o.RequireTLS {
		args = append(args, "--smtp-require-tls")
	}
	if o.RequireSTARTTLS {
		args = append(args, "--smtp-require-starttls")
	}
	if len(o.Users) > 0 {
		var lines []string
		for u, p := range o.Users {
			lines = append(lines, u+":"+p)
		}
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--smtp-auth-file", file)
		if !o.TLS && !o.RequireTLS {
			args = append(args, "--smtp-auth-allow-insecure")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting mailpit: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.API + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", net.JoinHostPort(s.SMTPHost, fmt.Sprint(s.SMTPPort))); err == nil {
				c.Close()
				return s
			}
		}
		select {
		case <-done:
			t.Fatalf("mailpit exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not listen within 20s: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// selfSigned writes cert.pem and key.pem for 127.0.0.1 into dir and
// returns the certificate's PEM.
func selfSigned(t testing.TB, dir string) string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte(cert), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert
}

// Summary is a message in GET /api/v1/messages.
type Summary struct {
	ID        string         `json:"ID"`
	MessageID string         `json:"MessageID"`
	Subject   string         `json:"Subject"`
	From      *mail.Address  `json:"From"`
	To        []mail.Address `json:"To"`
}

// Message is GET /api/v1/message/{ID}.
type Message struct {
	Summary
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// Messages lists the received messages, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var r struct {
		Messages []Summary `json:"messages"`
	}
	s.get(t, "/api/v1/messages", &r)
	return r.Messages
}

// Message returns a received message with its text and HTML parts.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+id, &m)
	return m
}

// Headers returns a received message's headers.
func (s *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	s.get(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

// ByMessageID returns the received messages with Message-ID mid (without
// angle brackets).
func (s *Server) ByMessageID(t testing.TB, mid string) []Summary {
	t.Helper()
	var found []Summary
	for _, m := range s.Messages(t) {
		if m.MessageID == mid {
			found = append(found, m)
		}
	}
	return found
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatalf("mailpit API %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit API %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit API %s: %v", path, err)
	}
}
