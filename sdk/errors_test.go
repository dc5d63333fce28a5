package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestErrorsSurviveTheWire(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
		code codes.Code
	}{
		{"not found", fmt.Errorf("get x: %w", ErrNotFound), ErrNotFound, codes.NotFound},
		{"unimplemented", fmt.Errorf("Send: %w", ErrUnimplemented), ErrUnimplemented, codes.Unimplemented},
		{"unauthenticated", fmt.Errorf("webhook: %w", ErrUnauthenticated), ErrUnauthenticated, codes.Unauthenticated},
		{"invalid", fmt.Errorf("key: %w", ErrInvalidArgument), ErrInvalidArgument, codes.InvalidArgument},
		{"not configured", ErrNotConfigured, ErrNotConfigured, codes.FailedPrecondition},
		{"unavailable", fmt.Errorf("s3: %w", ErrUnavailable), ErrUnavailable, codes.Unavailable},
		{"canceled", fmt.Errorf("build: %w", context.Canceled), context.Canceled, codes.Canceled},
		{"deadline", fmt.Errorf("build: %w", context.DeadlineExceeded), context.DeadlineExceeded, codes.DeadlineExceeded},
		{"plain", errors.New("disk on fire"), nil, codes.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := toStatus(tt.err)
			if got := status.Code(wire); got != tt.code {
				t.Errorf("code = %s, want %s", got, tt.code)
			}
			back := fromStatus(wire)
			if back.Error() != tt.err.Error() {
				t.Errorf("message = %q, want %q", back.Error(), tt.err.Error())
			}
			if tt.want != nil && !errors.Is(back, tt.want) {
				t.Errorf("errors.Is(%v, %v) = false", back, tt.want)
			}
			if errors.Is(back, ErrConnection) {
				t.Errorf("a plugin's error came back as ErrConnection")
			}
		})
	}
}

func TestConfigErrorSurvivesTheWire(t *testing.T) {
	in := (&ConfigError{}).Add("url", "is required").Add("headers.X", "cannot be set")
	back := fromStatus(toStatus(fmt.Errorf("configure: %w", in)))
	var cfg *ConfigError
	if !errors.As(back, &cfg) {
		t.Fatalf("got %T %v, want *ConfigError", back, back)
	}
	if fmt.Sprint(cfg.Fields) != fmt.Sprint(in.Fields) {
		t.Errorf("fields = %v, want %v", cfg.Fields, in.Fields)
	}
	if !errors.Is(back, ErrInvalidArgument) {
		t.Errorf("ConfigError does not match ErrInvalidArgument")
	}
}

func TestTransportErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"unavailable", status.Error(codes.Unavailable, "error reading from server: EOF"), ErrConnection},
		{"internal", status.Error(codes.Internal, "stream terminated"), ErrConnection},
		{"cancelled", status.Error(codes.Canceled, "context canceled"), context.Canceled},
		{"deadline", status.Error(codes.DeadlineExceeded, "deadline"), context.DeadlineExceeded},
		{"unknown method", status.Error(codes.Unimplemented, "unknown method Foo"), ErrUnimplemented},
		{"not a status", errors.New("boom"), ErrConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fromStatus(tt.err); !errors.Is(got, tt.want) {
				t.Errorf("fromStatus(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestDecodeSettings(t *testing.T) {
	type target struct {
		URL   string `json:"url"`
		Port  int    `json:"port"`
		Inner struct {
			On bool `json:"on"`
		} `json:"inner"`
	}
	tests := []struct {
		name      string
		in        string
		wantField string // "" with wantErr: error on the document
		wantErr   bool
	}{
		{"valid", `{"url":"http://x","port":80,"inner":{"on":true}}`, "", false},
		{"empty", ``, "", false},
		{"null", `null`, "", false},
		{"unknown field", `{"nope":1}`, "nope", true},
		{"wrong type", `{"port":"eighty"}`, "port", true},
		{"nested wrong type", `{"inner":{"on":"yes"}}`, "inner.on", true},
		{"array", `[1,2]`, "", true},
		{"not json", `{"url":`, "", true},
		{"two documents", `{} {}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v target
			err := DecodeSettings(json.RawMessage(tt.in), &v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("DecodeSettings(%s) = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if err == nil {
				return
			}
			var cfg *ConfigError
			if !errors.As(err, &cfg) || len(cfg.Fields) != 1 {
				t.Fatalf("error %v is not a ConfigError with one field", err)
			}
			if cfg.Fields[0].Field != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", cfg.Fields[0].Field, tt.wantField, err)
			}
		})
	}
}

func TestConfigErrorErr(t *testing.T) {
	var errs ConfigError
	if errs.Err() != nil {
		t.Errorf("empty ConfigError.Err() != nil")
	}
	errs.Add("a", "bad")
	if err := errs.Err(); err == nil || err.Error() != "invalid settings: a: bad" {
		t.Errorf("Err() = %v", err)
	}
}
