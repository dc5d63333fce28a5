package accesslog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Entry is one request of Traefik's JSON access log, with the fields berth
// uses (Traefik's names).
type Entry struct {
	// StartUTC is when the request started.
	StartUTC time.Time
	// Duration is the whole time Traefik took, in nanoseconds in the log.
	Duration time.Duration
	// RouterName is the router that matched, e.g. "<id>--https@file".
	RouterName string
	// ServiceName is the service that answered, e.g. "<id>@file".
	ServiceName string
	// RequestHost is the requested host.
	RequestHost string
	// RequestMethod is the HTTP method.
	RequestMethod string
	// RequestPath is the path, without the query string.
	RequestPath string
	// DownstreamStatus is the status sent to the client.
	DownstreamStatus int
	// ClientHost is the client's address (without port).
	ClientHost string
}

// rawEntry mirrors the JSON fields of an access line.
type rawEntry struct {
	StartUTC         string `json:"StartUTC"`
	Duration         int64  `json:"Duration"`
	RouterName       string `json:"RouterName"`
	ServiceName      string `json:"ServiceName"`
	RequestHost      string `json:"RequestHost"`
	RequestMethod    string `json:"RequestMethod"`
	RequestPath      string `json:"RequestPath"`
	DownstreamStatus int    `json:"DownstreamStatus"`
	ClientHost       string `json:"ClientHost"`
}

// ErrNotAccess reports a JSON line that is not an access line: one of
// Traefik's own log lines ({"level":...,"message":...}).
var ErrNotAccess = errors.New("not an access log line")

// maxPath bounds the stored path.
const maxPath = 512

// Parse decodes one JSON line of Traefik's output. Access lines carry
// RequestMethod, DownstreamStatus and StartUTC; any other JSON line is
// Traefik's own log and yields ErrNotAccess.
func Parse(line []byte) (Entry, error) {
	var r rawEntry
	if err := json.Unmarshal(bytes.TrimSpace(line), &r); err != nil {
		return Entry{}, fmt.Errorf("access log line: %w", err)
	}
	if r.RequestMethod == "" || r.DownstreamStatus == 0 || r.StartUTC == "" {
		return Entry{}, ErrNotAccess
	}
	start, err := time.Parse(time.RFC3339Nano, r.StartUTC)
	if err != nil {
		return Entry{}, fmt.Errorf("access log line: StartUTC: %w", err)
	}
	path, _, _ := strings.Cut(r.RequestPath, "?")
	if len(path) > maxPath {
		path = path[:maxPath]
	}
	return Entry{
		StartUTC: start.UTC(), Duration: time.Duration(r.Duration), RouterName: r.RouterName, ServiceName: r.ServiceName,
		RequestHost: strings.ToLower(r.RequestHost), RequestMethod: r.RequestMethod, RequestPath: path,
		DownstreamStatus: r.DownstreamStatus, ClientHost: r.ClientHost,
	}, nil
}

// SplitTimestamp separates the timestamp Docker puts before each log line
// (ContainerLogs with Timestamps) from the line.
func SplitTimestamp(line []byte) (time.Time, []byte, error) {
	ts, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		return time.Time{}, nil, errors.New("log line without a timestamp")
	}
	at, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("log line timestamp: %w", err)
	}
	return at, rest, nil
}

// RouteID returns the route id a Traefik router or service name belongs
// to: "<id>--https@file" and "<id>@file" give "<id>". Names that are not
// of a route (no "@file", shared or internal ones) give "".
func RouteID(name string) string {
	base, ok := strings.CutSuffix(name, "@file")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(base, "--")
	return id
}
