// Command bench measures berth against its targets and prints each figure
// next to its goal: time to first answer, resident memory idle and at the
// start-up peak, and authenticated list latency.
//
//	go run ./bench -berth bin/berth
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("berth", "bin/berth", "berth binary")
	requests := flag.Int("requests", 2000, "list requests to time")
	projects := flag.Int("projects", 50, "projects to create before timing lists")
	flag.Parse()
	if err := run(*bin, *requests, *projects); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type instance struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	env  []string
	bin  string
}

func freePort() int {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (in *instance) start() (time.Duration, error) {
	in.cmd = exec.Command(in.bin, "server")
	in.cmd.Env = in.env
	log, _ := os.Create(filepath.Join(in.dir, "berth.log"))
	in.cmd.Stdout, in.cmd.Stderr = log, log
	begin := time.Now()
	if err := in.cmd.Start(); err != nil {
		return 0, err
	}
	for time.Since(begin) < time.Minute {
		if resp, err := http.Get("http://" + in.addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(begin), nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("berth did not answer; see %s/berth.log", in.dir)
}

func (in *instance) stop() {
	in.cmd.Process.Signal(syscall.SIGTERM)
	in.cmd.Wait()
}

// rss returns VmRSS and VmHWM of pid in MiB.
func rss(pid int) (cur, peak float64) {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return
}

func row(name string, value, goal string, ok bool) {
	mark := "ok"
	if !ok {
		mark = "MISSED"
	}
	fmt.Printf("%-44s %14s   goal %-12s %s\n", name, value, goal, mark)
}

func run(bin string, requests, projects int) error {
	dir, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o711)
	name := fmt.Sprintf("bench%d", time.Now().Unix()%100000)
	in := &instance{bin: bin, dir: dir, addr: fmt.Sprintf("127.0.0.1:%d", freePort())}
	in.env = append(os.Environ(), "BERTH_NAME="+name, "BERTH_DATA_DIR="+filepath.Join(dir, "data"), "BERTH_ADDR="+in.addr,
		"DATABASE_URL=", fmt.Sprintf("BERTH_HTTP_PORT=%d", freePort()), fmt.Sprintf("BERTH_HTTPS_PORT=%d", freePort()),
		fmt.Sprintf("BERTH_TRAEFIK_API_PORT=%d", freePort()))
	defer exec.Command("docker", "rm", "-f", name+"-traefik").Run()
	defer exec.Command("docker", "network", "rm", name+"-proxy").Run()

	// Cold start (initdb, Traefik created), then a warm restart.
	cold, err := in.start()
	if err != nil {
		return err
	}
	in.stop()
	warm, err := in.start()
	if err != nil {
		return err
	}
	defer in.stop()
	row("first answer after start (cold: initdb)", cold.Round(time.Millisecond).String(), "-", true)
	row("first answer after start (warm)", warm.Round(time.Millisecond).String(), "<= 1s", warm <= time.Second)

	key, err := setup(in.addr, filepath.Join(dir, "data", "setup-token"))
	if err != nil {
		return err
	}
	for i := 0; i < projects; i++ {
		if err := call(in.addr, key, "POST", "/api/v1/projects", map[string]any{"name": fmt.Sprintf("project-%03d", i)}); err != nil {
			return err
		}
	}
	time.Sleep(5 * time.Second)
	idle, peak := rss(in.cmd.Process.Pid)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	lat := make([]time.Duration, 0, requests)
	for i := 0; i < requests+100; i++ {
		req, _ := http.NewRequest("GET", "http://"+in.addr+"/api/v1/projects?limit=50", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("list: %d %s", resp.StatusCode, buf.String())
		}
		if i >= 100 { // warm-up excluded
			lat = append(lat, time.Since(t0))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	row(fmt.Sprintf("GET /api/v1/projects (%d projects) p50", projects), p50.Round(time.Microsecond).String(), "<= 1ms", p50 <= time.Millisecond)
	row(fmt.Sprintf("GET /api/v1/projects (%d projects) p99", projects), p99.Round(time.Microsecond).String(), "<= 5ms", p99 <= 5*time.Millisecond)
	time.Sleep(2 * time.Second)
	after, peak2 := rss(in.cmd.Process.Pid)
	if peak2 > peak {
		peak = peak2
	}
	row("berth server RSS idle after start", fmt.Sprintf("%.1f MiB", idle), "<= 40 MiB", idle <= 40)
	row("berth server RSS after the list load", fmt.Sprintf("%.1f MiB", after), "<= 40 MiB", after <= 40)
	row("berth server RSS peak (VmHWM)", fmt.Sprintf("%.1f MiB", peak), "<= 60 MiB", peak <= 60)
	return nil
}

func setup(addr, tokenFile string) (string, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string]string{"token": strings.TrimSpace(string(tok)), "email": "bench@example.com", "name": "Bench", "password": "correct horse battery"})
	resp, err := http.Post("http://"+addr+"/api/v1/setup", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/api-keys", strings.NewReader(`{"name":"bench"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", sess.CSRF)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	kr, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer kr.Body.Close()
	var key struct {
		Token string `json:"token"`
	}
	json.NewDecoder(kr.Body).Decode(&key)
	return key.Token, nil
}

func call(addr, key, method, path string, body any) error {
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d", method, path, resp.StatusCode)
	}
	return nil
}
