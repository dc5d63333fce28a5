package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"defaults", nil, config{port: "8080"}, ""},
		{"every setting", map[string]string{"MESSAGE": "v2", "PORT": "9000", "HEALTHY_AFTER": "1h", "LISTEN_AFTER": "3s",
			"EXIT_AFTER": "2s", "NEVER_LISTEN": "1", "IGNORE_SIGTERM": "true", "DRAIN": "0"},
			config{message: "v2", port: "9000", healthyAfter: time.Hour, listenAfter: 3 * time.Second, exitAfter: 2 * time.Second,
				neverListen: true, ignoreSIGTERM: true}, ""},
		{"drain", map[string]string{"DRAIN": "1"}, config{port: "8080", drain: true}, ""},
		{"bad duration", map[string]string{"LISTEN_AFTER": "3"}, config{}, "LISTEN_AFTER"},
		{"bad exit duration", map[string]string{"EXIT_AFTER": "soon"}, config{}, "EXIT_AFTER"},
		{"bad flag", map[string]string{"NEVER_LISTEN": "yes please"}, config{}, "NEVER_LISTEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestHandler(t *testing.T) {
	started := time.Now()
	tests := []struct {
		name, method, path string
		cfg                config
		status             int
		body               string
	}{
		{"GET", "GET", "/hi", config{message: "v1"}, 200, "v1 /hi"},
		{"POST with a body", "POST", "/orders", config{message: "v1"}, 200, "v1 /orders"},
		{"healthy", "GET", "/healthz", config{message: "v1"}, 200, ""},
		{"not healthy yet", "GET", "/healthz", config{message: "v1", healthyAfter: time.Hour}, 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			handler(tt.cfg, started).ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{"order":42}`)))
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
			if v := rec.Header().Get("X-Version"); v != tt.cfg.message {
				t.Fatalf("X-Version %q, want %q", v, tt.cfg.message)
			}
		})
	}
}

// started runs the server in the background and returns its address once
// listening, and the channel of its exit status.
func started(t *testing.T, cfg config, start time.Time, sigterm <-chan os.Signal) (chan string, chan int) {
	t.Helper()
	cfg.port = "0"
	addr := make(chan string, 1)
	exit := make(chan int, 1)
	go func() { exit <- run(cfg, start, sigterm, func(a net.Addr) { addr <- a.String() }) }()
	return addr, exit
}

func TestRunListenAfter(t *testing.T) {
	start := time.Now()
	addr, _ := started(t, config{listenAfter: 300 * time.Millisecond}, start, nil)
	select {
	case a := <-addr:
		if since := time.Since(start); since < 300*time.Millisecond {
			t.Fatalf("listening after %s, want 300ms", since)
		}
		resp, err := http.Get("http://" + a + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("never listened")
	}
}

func TestRunExitAfter(t *testing.T) {
	addr, exit := started(t, config{exitAfter: 300 * time.Millisecond}, time.Now(), nil)
	a := <-addr
	opened := time.Now()
	resp, err := http.Get("http://" + a + "/")
	if err != nil {
		t.Fatalf("not serving before EXIT_AFTER: %v", err)
	}
	resp.Body.Close()
	select {
	case code := <-exit:
		if code != 1 || time.Since(opened) < 250*time.Millisecond {
			t.Fatalf("exit %d after %s, want 1 after 300ms", code, time.Since(opened))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not exit")
	}
}

func TestRunNeverListen(t *testing.T) {
	sigterm := make(chan os.Signal, 1)
	addr, exit := started(t, config{neverListen: true}, time.Now(), sigterm)
	select {
	case a := <-addr:
		t.Fatalf("listening on %s", a)
	case <-time.After(500 * time.Millisecond):
	}
	sigterm <- syscall.SIGTERM
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0", code)
	}
}

// TestRunDrain sends SIGTERM while a request is in flight: the request
// completes, new connections are refused, and the process exits 0.
func TestRunDrain(t *testing.T) {
	sigterm := make(chan os.Signal, 1)
	addr, exit := started(t, config{message: "v1"}, time.Now(), sigterm)
	a := <-addr
	conn, err := net.Dial("tcp", a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half a request: in flight (the server waits for the rest) when SIGTERM arrives.
	io.WriteString(conn, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
	time.Sleep(100 * time.Millisecond)
	sigterm <- syscall.SIGTERM
	time.Sleep(200 * time.Millisecond)
	select {
	case code := <-exit:
		t.Fatalf("exited %d with a request in flight", code)
	default:
	}
	if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
		c.Close()
		t.Fatal("a new connection was accepted while draining")
	}
	io.WriteString(conn, "cd")
	reply, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(reply), "HTTP/1.1 200") || !strings.Contains(string(reply), "X-Version: v1") ||
		!strings.HasSuffix(string(reply), "v1 /slow") {
		t.Fatalf("in-flight request answered %q", reply)
	}
	select {
	case code := <-exit:
		if code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not exit after draining")
	}
}

// TestMain runs the backend itself when TestSignals starts the test binary
// as the backend process (BACKEND_TEST_MAIN=1).
func TestMain(m *testing.M) {
	if os.Getenv("BACKEND_TEST_MAIN") == "1" {
		os.Args = os.Args[:1]
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSignals runs the backend as a process and sends it SIGTERM: by
// default it dies at once, with IGNORE_SIGTERM it keeps serving, with DRAIN
// it exits 0.
func TestSignals(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		exits   bool
		success bool
	}{
		{"default", "", true, false},
		{"ignored", "IGNORE_SIGTERM=1", false, false},
		{"drained", "DRAIN=1", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "BACKEND_TEST_MAIN=1", "MESSAGE=sig", "PORT="+strconv.Itoa(port), tt.env)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { cmd.Process.Kill() })
			url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := http.Get(url)
				if err == nil {
					resp.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("backend never answered: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-done:
				if !tt.exits {
					t.Fatalf("exited (%v) on SIGTERM", err)
				}
				if (err == nil) != tt.success {
					t.Fatalf("exit: %v, want success %v", err, tt.success)
				}
			case <-time.After(time.Second):
				if tt.exits {
					t.Fatal("still running a second after SIGTERM")
				}
				resp, err := http.Get(url)
				if err != nil {
					t.Fatalf("not serving after an ignored SIGTERM: %v", err)
				}
				resp.Body.Close()
			}
		})
	}
}
