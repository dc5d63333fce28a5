// Package s3test runs a real S3 server for tests: versitygw
// (github.com/versity/versitygw) with its posix backend, on a temporary
// directory and a free loopback port, with a bucket ready to use.
//
// `make test-deps` (run by `make test`) installs the binary into
// .cache/bin/versitygw; Start fails the test with that hint when it is
// missing.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Region is the region the server runs in.
const Region = "us-east-1"

// startTimeout bounds how long Start waits for the server to answer.
const startTimeout = 20 * time.Second

// Server is a running S3 server with one bucket. Clients must use
// path-style bucket addressing (the endpoint is an IP address).
type Server struct {
	// Endpoint is the server's URL, "http://127.0.0.1:PORT".
	Endpoint string
	// Region is the server's region, "us-east-1".
	Region string
	// Bucket is an empty bucket created for the test.
	Bucket string
	// AccessKey and SecretKey are the root credentials, generated for the
	// test.
	AccessKey string
	SecretKey string
	// Dir is the directory the posix backend serves: each bucket is a
	// folder in it, each object a file under its bucket's folder.
	Dir string
}

// Start starts versitygw for the test, waits until it answers, creates
// s.Bucket, and stops the server when the test ends. It fails the test
// (never skips it) when the binary is missing or the server does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	s := &Server{
		Region:    Region,
		Bucket:    "berth-test-" + randomHex(6),
		AccessKey: "berth" + randomHex(8),
		SecretKey: randomHex(20),
		Dir:       t.TempDir(),
	}
	var lastErr error
	for range 3 { // a free port may be taken between finding it and listening on it
		proc, err := s.start(t, bin)
		if err == nil {
			t.Cleanup(proc.stop)
			s.makeBucket(t)
			return s
		}
		lastErr = err
	}
	t.Fatalf("s3test: %v", lastErr)
	return nil
}

// Client returns a minio-go client for the server, logged in as root.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint[len("http://"):], &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("s3test: client: %v", err)
	}
	return c
}

// binary finds versitygw: .cache/bin/versitygw in the repository, else on
// PATH.
func binary(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cached := filepath.Join(filepath.Dir(file), "..", "..", ".cache", "bin", "versitygw")
	if st, err := os.Stat(cached); err == nil && !st.IsDir() {
		return cached
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	t.Fatalf("s3test: versitygw, the S3 server these tests run against, is not installed at %s: run `make test-deps` (or scripts/versitygw.sh)", filepath.Clean(cached))
	return ""
}

// process is a running versitygw.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process exited
	log  *lockedBuffer
	t    testing.TB
}

// start runs versitygw on a free port and waits until it answers.
func (s *Server) start(t testing.TB, bin string) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	s.Endpoint = "http://" + addr
	p := &process{done: make(chan struct{}), log: &lockedBuffer{}, t: t}
	p.cmd = exec.Command(bin, "--port", addr, "--region", s.Region, "--quiet", "posix", s.Dir)
	// Credentials go through the environment, not the argument list that
	// any process listing shows; nothing else of the test's environment
	// reaches the server.
	p.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + s.Dir,
		"ROOT_ACCESS_KEY_ID=" + s.AccessKey,
		"ROOT_SECRET_ACCESS_KEY=" + s.SecretKey,
	}
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("versitygw exited before answering on %s: %s\n%s", addr, p.cmd.ProcessState, p.log.String())
		default:
		}
		if answers(s.Endpoint) {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("versitygw did not answer on %s within %s:\n%s", addr, startTimeout, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops the server, killing it if it does not exit promptly, and
// prints its log if the test failed.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	if p.t.Failed() && p.log.Len() > 0 {
		p.t.Logf("s3test: versitygw log:\n%s", p.log.String())
	}
}

// answers reports whether an HTTP server answers at endpoint.
func answers(endpoint string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// makeBucket creates s.Bucket.
func (s *Server) makeBucket(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.Client(t).MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("s3test: creating bucket %s at %s: %v", s.Bucket, s.Endpoint, err)
	}
}

// freePort returns a TCP port on the loopback interface that was free a
// moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		return "", errors.Join(errors.New("finding a free port"), err)
	}
	return port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
