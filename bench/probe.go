package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// probe requests host through Traefik until the answer's status is 200 and
// its body starts with prefix, and returns when that happened. It reuses one
// keep-alive connection, like a browser refreshing a page.
type probe struct {
	url string
	c   *http.Client
}

func newProbe(port int) *probe {
	return &probe{url: fmt.Sprintf("http://127.0.0.1:%d/probe", port),
		c: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get returns the status and body of one request for host.
func (p *probe) get(host string) (int, string, error) {
	req, _ := http.NewRequest("GET", p.url, nil)
	req.Host = host
	resp, err := p.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// until polls every interval until host answers 200 with a body starting
// with prefix, and returns the time of that answer.
func (p *probe) until(ctx context.Context, host, prefix string, interval time.Duration) (time.Time, error) {
	var last string
	for {
		status, body, err := p.get(host)
		if err == nil && status == http.StatusOK && strings.HasPrefix(body, prefix) {
			return time.Now(), nil
		}
		last = fmt.Sprintf("%d %q %v", status, body, err)
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%s never answered %q (last: %s): %w", host, prefix, last, ctx.Err())
		case <-time.After(interval):
		}
	}
}
