package proxystats

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// traefikSample is shaped like Traefik v3's output with service labels.
const traefikSample = `# HELP traefik_config_reloads_total Config reloads
# TYPE traefik_config_reloads_total counter
traefik_config_reloads_total 3
# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.
# TYPE traefik_service_requests_total counter
traefik_service_requests_total{code="200",method="GET",protocol="http",service="blog@file"} 40
traefik_service_requests_total{code="304",method="GET",protocol="http",service="blog@file"} 2
traefik_service_requests_total{code="500",method="GET",protocol="http",service="blog@file"} 3
traefik_service_requests_total{code="503",method="POST",protocol="http",service="blog@file"} 1
traefik_service_requests_total{code="404",method="GET",protocol="http",service="shop@file"} 7
traefik_service_requests_total{code="200",method="GET",protocol="websocket",service="shop@file"} 1
# HELP traefik_service_request_duration_seconds How long it took to process the request on a service, partitioned by status code, protocol, and method.
# TYPE traefik_service_request_duration_seconds histogram
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="blog@file",le="0.1"} 40
traefik_service_request_duration_seconds_bucket{code="200",method="GET",protocol="http",service="blog@file",le="+Inf"} 40
traefik_service_request_duration_seconds_sum{code="200",method="GET",protocol="http",service="blog@file"} 0.2
traefik_service_request_duration_seconds_count{code="200",method="GET",protocol="http",service="blog@file"} 40
`

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    map[string]Counts
		wantErr string
	}{
		{"traefik services", traefikSample, map[string]Counts{
			"blog@file": {Requests: 46, Errors: 4},
			"shop@file": {Requests: 8, Errors: 0},
		}, ""},
		{"no traffic yet", "# TYPE traefik_config_reloads_total counter\ntraefik_config_reloads_total 1\n", map[string]Counts{}, ""},
		{"empty document", "", map[string]Counts{}, ""},
		{"code labels that are not 5xx", `traefik_service_requests_total{code="5",service="a"} 1
traefik_service_requests_total{code="5000",service="a"} 1
traefik_service_requests_total{code="499",service="a"} 1
traefik_service_requests_total{code="599",service="a"} 1
`, map[string]Counts{"a": {Requests: 4, Errors: 1}}, ""},
		{"untyped samples still count", `traefik_service_requests_total{code="502",service="a"} 2` + "\n", map[string]Counts{"a": {Requests: 2, Errors: 2}}, ""},
		{"not the text format", "{not prometheus}", nil, "line 1: \"{not prometheus}\" is not in the Prometheus text format"},
		{"html", "<html>\n", nil, "is not in the Prometheus text format"},
		{"other families are not parsed", "go_goroutines 12\nsome_histogram_bucket{le=\"+Inf\"} 3\n\n", map[string]Counts{}, ""},
		{"a broken requests sample", `traefik_service_requests_total{code="200",service="a"} x` + "\n", nil, "parse metrics"},
		{"a similar name is not the counter", `traefik_service_requests_total_x{code="500",service="a"} 1` + "\n", map[string]Counts{}, ""},
		{"missing service label", `traefik_service_requests_total{code="200"} 1` + "\n", nil, "without a service label"},
		{"negative counter", `traefik_service_requests_total{code="200",service="a"} -1` + "\n", nil, "has the value -1"},
		{"wrong type", "# TYPE traefik_service_requests_total gauge\ntraefik_service_requests_total{service=\"a\"} 1\n", nil, "want a counter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScrapeSum(t *testing.T) {
	s := Scrape{Services: map[string]Counts{"a@file": {10, 1}, "b@file": {5, 2}}}
	for _, tc := range []struct {
		names []string
		want  Counts
	}{
		{nil, Counts{}},
		{[]string{"a@file"}, Counts{10, 1}},
		{[]string{"a@file", "b@file"}, Counts{15, 3}},
		{[]string{"a@file", "missing@file"}, Counts{10, 1}},
	} {
		if got := s.Sum(tc.names...); got != tc.want {
			t.Errorf("Sum(%v) = %+v, want %+v", tc.names, got, tc.want)
		}
	}
}

func TestClientScrape(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    map[string]Counts
		wantErr string
	}{
		{"ok", func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Accept"), "text/plain") {
				t.Errorf("Accept = %q, want the text format", r.Header.Get("Accept"))
			}
			w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8; escaping=underscores")
			_, _ = w.Write([]byte(traefikSample))
		}, map[string]Counts{"blog@file": {46, 4}, "shop@file": {8, 0}}, ""},
		{"forbidden by the allow list", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Forbidden", http.StatusForbidden)
		}, nil, "answered 403 Forbidden"},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write([]byte("<html>"))
		}, nil, "not in the Prometheus text format"},
		{"not the text format", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		}, nil, `Content-Type "application/json"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			got, err := NewClient(srv.URL+"/metrics", nil).Scrape(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got.Services, tc.want) || got.At.IsZero() {
				t.Errorf("got %+v, want %v at a time", got, tc.want)
			}
		})
	}
}

func TestClientScrapeCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewClient(srv.URL, nil).Scrape(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled wrapped", err)
	}
}

func TestLimitedReader(t *testing.T) {
	l := &limitedReader{r: strings.NewReader("abcdef"), left: 4}
	buf := make([]byte, 10)
	n, err := l.Read(buf)
	if n != 4 || err != nil {
		t.Fatalf("first read: %d, %v", n, err)
	}
	if _, err := l.Read(buf); !errors.Is(err, errTooLarge) {
		t.Errorf("read past the limit: %v, want errTooLarge", err)
	}
	exact := &limitedReader{r: strings.NewReader("abcd"), left: 4}
	if data, err := io.ReadAll(exact); string(data) != "abcd" || err != nil {
		t.Errorf("a document of exactly the limit: %q, %v", data, err)
	}
}

func TestLineFilter(t *testing.T) {
	for _, tc := range []struct {
		line            string
		requests, other bool
	}{
		{`traefik_service_requests_total{code="200",service="a"} 1`, true, true},
		{"traefik_service_requests_total 1", true, true},
		{"# TYPE traefik_service_requests_total counter", true, true},
		{"# HELP traefik_service_requests_total How many.", true, true},
		{"# EOF", false, true},
		{"traefik_service_requests_total_x 1", false, true},
		{"traefik_service_requests_totals{} 1", false, true},
		{`traefik_service_request_duration_seconds_bucket{le="+Inf"} 1`, false, true},
		{"", false, true},
		{"   ", false, true},
		{"{}", false, false},
		{"<html>", false, false},
		{"1metric 2", false, false},
		{"metric", false, false},
	} {
		if got := isRequestsLine([]byte(tc.line)); got != tc.requests {
			t.Errorf("isRequestsLine(%q) = %v", tc.line, got)
		}
		if got := isRequestsLine([]byte(tc.line)) || isOtherLine([]byte(tc.line)); got != tc.other {
			t.Errorf("line %q accepted = %v, want %v", tc.line, got, tc.other)
		}
	}
}
