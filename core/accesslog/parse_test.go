package accesslog

import (
	"errors"
	"testing"
	"time"
)

// accessLine is shaped like a line of Traefik v3's JSON access log.
const accessLine = `{"ClientAddr":"10.0.0.2:51234","ClientHost":"10.0.0.2","ClientPort":"51234","ClientUsername":"-",` +
	`"DownstreamContentSize":21,"DownstreamStatus":503,"Duration":123456789,"OriginContentSize":21,` +
	`"OriginDuration":120000000,"OriginStatus":503,"Overhead":3456789,"RequestAddr":"Shop.Example.com",` +
	`"RequestContentSize":0,"RequestCount":7,"RequestHost":"Shop.Example.com","RequestMethod":"POST",` +
	`"RequestPath":"/cart/add?item=3&token=secret","RequestPort":"-","RequestProtocol":"HTTP/1.1","RequestScheme":"http",` +
	`"RetryAttempts":0,"RouterName":"0b5c1a2e-7f3d-4c2b-9a8e-1d2c3b4a5f60--http@file",` +
	`"ServiceAddr":"10.0.1.5:8080","ServiceName":"0b5c1a2e-7f3d-4c2b-9a8e-1d2c3b4a5f60@file",` +
	`"ServiceURL":"http://10.0.1.5:8080","StartLocal":"2026-12-08T01:02:03.456789Z","StartUTC":"2026-12-08T01:02:03.456789Z",` +
	`"entryPointName":"web","level":"info","msg":"","time":"2026-12-08T01:02:03Z"}`

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    Entry
		wantErr error
		anyErr  bool
	}{
		{name: "access line", line: accessLine, want: Entry{
			StartUTC: time.Date(2026, 12, 8, 1, 2, 3, 456789000, time.UTC), Duration: 123456789 * time.Nanosecond,
			RouterName: "0b5c1a2e-7f3d-4c2b-9a8e-1d2c3b4a5f60--http@file", ServiceName: "0b5c1a2e-7f3d-4c2b-9a8e-1d2c3b4a5f60@file",
			RequestHost: "shop.example.com", RequestMethod: "POST", RequestPath: "/cart/add", DownstreamStatus: 503, ClientHost: "10.0.0.2",
		}},
		{name: "traefik's own log", line: `{"level":"info","time":"2026-12-08T01:00:00Z","message":"Configuration loaded from file: /etc/traefik/traefik.yml"}`, wantErr: ErrNotAccess},
		{name: "traefik error with a status-like field", line: `{"level":"error","error":"x","entryPointName":"web","message":"Error while serving"}`, wantErr: ErrNotAccess},
		{name: "not JSON", line: `time="2026" level=info msg=x`, anyErr: true},
		{name: "bad StartUTC", line: `{"RequestMethod":"GET","DownstreamStatus":200,"StartUTC":"yesterday"}`, anyErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.line))
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.anyErr:
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSplitTimestamp(t *testing.T) {
	at, rest, err := SplitTimestamp([]byte("2026-12-08T01:02:03.000000001Z {\"a\":1}\n"))
	if err != nil || !at.Equal(time.Date(2026, 12, 8, 1, 2, 3, 1, time.UTC)) || string(rest) != "{\"a\":1}\n" {
		t.Errorf("at=%v rest=%q err=%v", at, rest, err)
	}
	if _, _, err := SplitTimestamp([]byte("nospace")); err == nil {
		t.Error("a line without timestamp was accepted")
	}
}

func TestRouteID(t *testing.T) {
	tests := []struct{ name, want string }{
		{"0b5c--http@file", "0b5c"},
		{"0b5c--https@file", "0b5c"},
		{"0b5c@file", "0b5c"},
		{"0b5c--stable@file", "0b5c"},
		{"berth-probe--0b5c@file", "berth-probe"},
		{"api@internal", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RouteID(tt.name); got != tt.want {
			t.Errorf("RouteID(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
