package proxystats

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// RequestsMetric is the Traefik counter Scrape reads: requests answered by a
// service, labelled code, method, protocol and service.
const RequestsMetric = "traefik_service_requests_total"

// maxBody bounds the metrics document read by Scrape. Traefik writes a few
// kilobytes per service, so this leaves room for thousands of routes.
const maxBody = 64 << 20

// Counts are the cumulative counters of one Traefik service since Traefik
// (re)created its series.
type Counts struct {
	// Requests answered, whatever the status.
	Requests uint64
	// Errors are the requests answered with a 5xx status.
	Errors uint64
}

// Add returns the sum of c and o.
func (c Counts) Add(o Counts) Counts {
	return Counts{Requests: c.Requests + o.Requests, Errors: c.Errors + o.Errors}
}

// Scrape is one reading of Traefik's counters.
type Scrape struct {
	// At is when the reading was taken.
	At time.Time
	// Services maps Traefik's service label (e.g. "blog@file", see
	// proxy.MetricsService) to its counters. A service that has answered
	// no request since Traefik started has no entry.
	Services map[string]Counts
}

// Sum adds up the counters of the named services; names without an entry
// count as zero. Use it when one release is served by several routes.
func (s Scrape) Sum(services ...string) Counts {
	var sum Counts
	for _, name := range services {
		sum = sum.Add(s.Services[name])
	}
	return sum
}

// Client reads Traefik's Prometheus metrics endpoint.
type Client struct {
	url  string
	http *http.Client
	now  func() time.Time
}

// NewClient returns a Client for the metrics URL (e.g.
// proxy.Traefik.MetricsURL()). A nil hc means a client with a 5 second
// timeout.
func NewClient(url string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	return &Client{url: url, http: hc, now: time.Now}
}

// Scrape fetches the metrics once and returns every service's counters,
// stamped with the time the request was sent.
func (c *Client) Scrape(ctx context.Context) (Scrape, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return Scrape{}, fmt.Errorf("scrape traefik metrics: %w", err)
	}
	// The classic text format; Traefik would otherwise negotiate.
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	at := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Scrape{}, fmt.Errorf("scrape traefik metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return Scrape{}, fmt.Errorf("scrape traefik metrics: %s answered %s", c.url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return Scrape{}, fmt.Errorf("scrape traefik metrics: %s answered Content-Type %q, want the text format", c.url, ct)
	}
	body := &limitedReader{r: resp.Body, left: maxBody}
	services, err := Parse(body)
	if err != nil {
		return Scrape{}, fmt.Errorf("scrape traefik metrics from %s: %w", c.url, err)
	}
	return Scrape{At: at, Services: services}, nil
}

// errTooLarge is returned when the metrics document exceeds maxBody.
var errTooLarge = errors.New("metrics document larger than 64 MiB")

// limitedReader fails, rather than truncating silently, past left bytes.
type limitedReader struct {
	r    io.Reader
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// A document of exactly the limit is fine; one more byte is not.
		if n, err := l.r.Read(make([]byte, 1)); n == 0 && err != nil {
			return 0, err
		}
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// Parse reads a metrics document in the Prometheus text format and sums
// RequestsMetric per service label: all samples into Requests, those with
// a 5xx code label into Errors. Other metrics are ignored; a document
// without RequestsMetric gives an empty map. The samples may lack their
// TYPE line (untyped), but a gauge or histogram of that name is an error.
func Parse(r io.Reader) (map[string]Counts, error) {
	kept, err := requestLines(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(kept)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	services := map[string]Counts{}
	mf, ok := families[RequestsMetric]
	if !ok {
		return services, nil
	}
	typ := mf.GetType()
	if typ != dto.MetricType_COUNTER && typ != dto.MetricType_UNTYPED {
		return nil, fmt.Errorf("parse metrics: %s is a %s, want a counter", RequestsMetric, typ)
	}
	for _, m := range mf.GetMetric() {
		var service, code string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "service":
				service = l.GetValue()
			case "code":
				code = l.GetValue()
			}
		}
		if service == "" {
			return nil, fmt.Errorf("parse metrics: %s sample without a service label", RequestsMetric)
		}
		v := m.GetCounter().GetValue()
		if typ == dto.MetricType_UNTYPED {
			v = m.GetUntyped().GetValue()
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) || v > math.MaxInt64 {
			return nil, fmt.Errorf("parse metrics: %s{service=%q,code=%q} has the value %v", RequestsMetric, service, code, v)
		}
		n := uint64(v)
		c := services[service]
		c.Requests += n
		if isServerError(code) {
			c.Errors += n
		}
		services[service] = c
	}
	return services, nil
}

// maxLine bounds one line of the metrics document.
const maxLine = 1 << 20

// requestLines returns the lines of the text format that describe
// RequestsMetric: its samples and its HELP and TYPE comments. In the text
// format every sample line starts with its metric name, so the other
// families (mostly histograms, about nine tenths of Traefik's document) can
// be dropped before parsing, which makes parsing about ten times cheaper.
func requestLines(r io.Reader) (io.Reader, error) {
	var kept bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		switch {
		case isRequestsLine(line):
			kept.Write(line)
			kept.WriteByte('\n')
		case !isOtherLine(line):
			return nil, fmt.Errorf("line %d: %.40q is not in the Prometheus text format", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return &kept, nil
}

// isRequestsLine reports whether a line is a sample or comment of
// RequestsMetric.
func isRequestsLine(line []byte) bool {
	if rest, ok := bytes.CutPrefix(line, []byte("# ")); ok {
		if rest, ok = bytes.CutPrefix(rest, []byte("HELP ")); !ok {
			if rest, ok = bytes.CutPrefix(rest, []byte("TYPE ")); !ok {
				return false
			}
		}
		line = rest
	}
	rest, ok := bytes.CutPrefix(line, []byte(RequestsMetric))
	return ok && len(rest) > 0 && (rest[0] == '{' || rest[0] == ' ' || rest[0] == '\t')
}

// isOtherLine reports whether a line is blank, a comment, or starts with
// a metric name followed by labels or a value, as every line of the text
// format does. It catches documents that are not metrics at all (an HTML
// page, JSON) without parsing the families that are dropped.
func isOtherLine(line []byte) bool {
	if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
		return true
	}
	for i, c := range line {
		switch {
		case c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		case i > 0 && (c == '{' || c == ' ' || c == '\t'):
			return true
		default:
			return false
		}
	}
	return false
}

// isServerError reports whether an HTTP status code label is 5xx.
func isServerError(code string) bool {
	return len(code) == 3 && strings.HasPrefix(code, "5")
}
