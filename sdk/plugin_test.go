package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		id       string
		wantKind Kind
		wantName string
		ok       bool
	}{
		{"builder.dockerfile", KindBuilder, "dockerfile", true},
		{"git.github", KindGit, "github", true},
		{"backup.s3-compatible", KindBackup, "s3-compatible", true},
		{"notifier.slack2", KindNotifier, "slack2", true},
		{"notifier", "", "", false},
		{"mailer.smtp", "", "", false},
		{"notifier.Slack", "", "", false},
		{"notifier.", "", "", false},
		{"notifier.2fa", "", "", false},
		{"notifier.a.b", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			kind, name, err := ParseID(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseID(%q) error = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("error does not match ErrInvalidArgument")
			}
			if kind != tt.wantKind || name != tt.wantName {
				t.Errorf("ParseID(%q) = %q, %q", tt.id, kind, name)
			}
		})
	}
}

// fakeNotifier is a notifier whose Info and schema come from fields.
type fakeNotifier struct {
	UnimplementedNotifier
	info   InfoResponse
	schema json.RawMessage
}

func (f *fakeNotifier) Info(context.Context, *InfoRequest) (*InfoResponse, error) {
	r := f.info
	return &r, nil
}

func (f *fakeNotifier) ConfigSchema(context.Context, *ConfigSchemaRequest) (*ConfigSchemaResponse, error) {
	return &ConfigSchemaResponse{Settings: f.schema}, nil
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name    string
		info    InfoResponse
		schema  string
		wantErr string
	}{
		{"valid", InfoResponse{ID: "notifier.x", Version: "1.0.0"}, `{"type":"object"}`, ""},
		{"bad id", InfoResponse{ID: "notifierx", Version: "1.0.0"}, `{"type":"object"}`, "want kind.name"},
		{"no version", InfoResponse{ID: "notifier.x"}, `{"type":"object"}`, "empty version"},
		{"wrong kind", InfoResponse{ID: "builder.x", Version: "1"}, `{"type":"object"}`, "does not implement"},
		{"schema not object", InfoResponse{ID: "notifier.x", Version: "1"}, `[1]`, "not a JSON object"},
		{"schema not json", InfoResponse{ID: "notifier.x", Version: "1"}, `{`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Describe(context.Background(), &fakeNotifier{info: tt.info, schema: json.RawMessage(tt.schema)})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.Kind != KindNotifier || d.Name != "x" || !d.SupportsProtocol(ProtocolVersion) || d.Capabilities == nil {
					t.Errorf("Describe = %+v", d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Describe error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDescribeMainPrintsJSON(t *testing.T) {
	var out, errOut strings.Builder
	code := describeMain(context.Background(), &fakeNotifier{info: InfoResponse{ID: "notifier.x", Version: "2.0.0", Capabilities: []Capability{"c"}}, schema: EmptySchema}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var d Description
	if err := json.Unmarshal([]byte(out.String()), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != "notifier.x" || d.Version != "2.0.0" || len(d.ProtocolVersions) == 0 || string(compactJSON(d.ConfigSchema)) != string(EmptySchema) {
		t.Errorf("description = %+v", d)
	}
	if code := describeMain(context.Background(), &fakeNotifier{info: InfoResponse{ID: "bad"}}, &out, &errOut); code != 1 {
		t.Errorf("describe of an invalid plugin exited %d, want 1", code)
	}
}
