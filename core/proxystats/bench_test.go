package proxystats

import (
	"bytes"
	"fmt"
	"testing"
)

// traefikDocument returns a metrics document shaped like Traefik's with
// service labels: per service and status, the request counter, the
// duration histogram and the byte counters.
func traefikDocument(services int) []byte {
	var b bytes.Buffer
	codes := []string{"200", "404", "500"}
	b.WriteString("# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.\n# TYPE traefik_service_requests_total counter\n")
	for s := range services {
		for _, c := range codes {
			fmt.Fprintf(&b, "traefik_service_requests_total{code=%q,method=\"GET\",protocol=\"http\",service=\"r%d@file\"} 5\n", c, s)
		}
	}
	b.WriteString("# HELP traefik_service_request_duration_seconds How long it took to process the request on a service, partitioned by status code, protocol, and method.\n# TYPE traefik_service_request_duration_seconds histogram\n")
	for s := range services {
		for _, c := range codes {
			for _, le := range []string{"0.1", "0.3", "1.2", "5", "+Inf"} {
				fmt.Fprintf(&b, "traefik_service_request_duration_seconds_bucket{code=%q,method=\"GET\",protocol=\"http\",service=\"r%d@file\",le=%q} 5\n", c, s, le)
			}
			fmt.Fprintf(&b, "traefik_service_request_duration_seconds_sum{code=%q,method=\"GET\",protocol=\"http\",service=\"r%d@file\"} 0.01\n", c, s)
			fmt.Fprintf(&b, "traefik_service_request_duration_seconds_count{code=%q,method=\"GET\",protocol=\"http\",service=\"r%d@file\"} 5\n", c, s)
		}
	}
	for _, name := range []string{"traefik_service_requests_bytes_total", "traefik_service_responses_bytes_total"} {
		fmt.Fprintf(&b, "# HELP %s Bytes.\n# TYPE %s counter\n", name, name)
		for s := range services {
			for _, c := range codes {
				fmt.Fprintf(&b, "%s{code=%q,method=\"GET\",protocol=\"http\",service=\"r%d@file\"} 100\n", name, c, s)
			}
		}
	}
	return b.Bytes()
}

func BenchmarkParse200Services(b *testing.B) {
	doc := traefikDocument(200)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		got, err := Parse(bytes.NewReader(doc))
		if err != nil || len(got) != 200 || got["r7@file"] != (Counts{15, 5}) {
			b.Fatalf("got %d services, r7 %+v, err %v", len(got), got["r7@file"], err)
		}
	}
}
