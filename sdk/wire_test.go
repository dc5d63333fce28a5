package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
	"github.com/berth-dev/berth/sdk/plugintest"
)

// minimal implements only Info: everything else comes from the
// Unimplemented embed.
type minimal struct{ sdk.UnimplementedNotifier }

func (minimal) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "notifier.minimal", Version: "0.0.1"}, nil
}

func TestUnimplementedOverTheWire(t *testing.T) {
	n := plugintest.Notifier(t, minimal{})
	ctx := context.Background()
	if _, err := n.Send(ctx, &sdk.SendRequest{}); !errors.Is(err, sdk.ErrUnimplemented) {
		t.Errorf("Send = %v, want ErrUnimplemented", err)
	}
	if _, err := n.Configure(ctx, &sdk.ConfigureRequest{Settings: []byte(`{}`)}); err != nil {
		t.Errorf("Configure({}) = %v, want nil", err)
	}
	var cfg *sdk.ConfigError
	if _, err := n.Configure(ctx, &sdk.ConfigureRequest{Settings: []byte(`{"x":1}`)}); !errors.As(err, &cfg) || cfg.Fields[0].Field != "x" {
		t.Errorf("Configure({x:1}) = %v, want a ConfigError on x", err)
	}
	info, err := n.Info(ctx, &sdk.InfoRequest{})
	if err != nil || info.ID != "notifier.minimal" || len(info.ProtocolVersions) == 0 {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

// panicky panics in Send.
type panicky struct{ minimal }

func (panicky) Send(context.Context, *sdk.SendRequest) (*sdk.SendResponse, error) {
	panic("nil map somewhere")
}

func TestPanicBecomesAnError(t *testing.T) {
	n := plugintest.Notifier(t, panicky{})
	_, err := n.Send(context.Background(), &sdk.SendRequest{})
	if err == nil || !strings.Contains(err.Error(), "nil map somewhere") {
		t.Fatalf("Send = %v, want the panic as an error", err)
	}
	if _, err := n.Info(context.Background(), &sdk.InfoRequest{}); err != nil {
		t.Errorf("the plugin did not survive its panic: %v", err)
	}
}

// refusing is a backup target that refuses every Put without reading it.
type refusing struct{ sdk.UnimplementedBackupTarget }

func (refusing) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "backup.refusing", Version: "0.0.1"}, nil
}

func (refusing) Put(_ context.Context, req *sdk.PutRequest) (*sdk.PutResponse, error) {
	return nil, errors.New("quota exceeded for " + req.Key)
}

func (refusing) Get(context.Context, *sdk.GetRequest) (*sdk.GetResponse, error) {
	return &sdk.GetResponse{Object: sdk.ObjectInfo{Key: "k", Size: 3}, Body: io.NopCloser(io.MultiReader(strings.NewReader("abc"), failingReader{}))}, nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk read error") }

func TestStreamErrors(t *testing.T) {
	b := plugintest.BackupTarget(t, refusing{})
	ctx := context.Background()
	t.Run("put refused early", func(t *testing.T) {
		_, err := b.Put(ctx, &sdk.PutRequest{Key: "big", Body: bytes.NewReader(make([]byte, 20<<20)), Size: 20 << 20})
		if err == nil || !strings.Contains(err.Error(), "quota exceeded for big") {
			t.Errorf("Put = %v, want the plugin's error", err)
		}
	})
	t.Run("get fails midway", func(t *testing.T) {
		r, err := b.Get(ctx, &sdk.GetRequest{Key: "k"})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		data, err := io.ReadAll(r.Body)
		if string(data) != "abc" || err == nil || !strings.Contains(err.Error(), "disk read error") {
			t.Errorf("ReadAll = %q, %v; want abc and the plugin's error", data, err)
		}
	})
	t.Run("nil requests", func(t *testing.T) {
		if _, err := b.Put(ctx, nil); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Put(nil) = %v", err)
		}
	})
}

// echoGit answers ParseWebhook with a pull request event and reports the
// credentials it received through SetCommitStatus's Description check.
type echoGit struct {
	sdk.UnimplementedGitProvider
	got *sdk.Credentials
}

func (echoGit) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{ID: "git.echo", Version: "0.0.1"}, nil
}

func (e *echoGit) SetCommitStatus(_ context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	e.got = req.Credentials
	return &sdk.SetCommitStatusResponse{}, nil
}

func (echoGit) ParseWebhook(context.Context, *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	return &sdk.ParseWebhookResponse{Event: &sdk.WebhookEvent{Type: sdk.WebhookPullRequest, PullRequest: &sdk.PullRequest{
		Number: 7, Labels: []string{"preview"}, HeadRepository: "fork/app", HeadCloneURL: "https://example.com/fork/app.git",
		Merged: true, Draft: true,
	}}}, nil
}

func TestGitFieldsCrossTheWire(t *testing.T) {
	impl := &echoGit{}
	g := plugintest.GitProvider(t, impl)
	ctx := context.Background()
	creds := &sdk.Credentials{Token: "t", BaseURL: "https://git.example.com",
		App: &sdk.AppCredentials{AppID: "1", InstallationID: "2", PrivateKey: []byte("pem")}}
	if _, err := g.SetCommitStatus(ctx, &sdk.SetCommitStatusRequest{Credentials: creds}); err != nil {
		t.Fatal(err)
	}
	if impl.got == nil || impl.got.BaseURL != creds.BaseURL || impl.got.App == nil || impl.got.App.AppID != "1" ||
		impl.got.App.InstallationID != "2" || string(impl.got.App.PrivateKey) != "pem" {
		t.Errorf("credentials = %+v", impl.got)
	}
	r, err := g.ParseWebhook(ctx, &sdk.ParseWebhookRequest{})
	if err != nil {
		t.Fatal(err)
	}
	pr := r.Event.PullRequest
	if pr.Number != 7 || len(pr.Labels) != 1 || pr.HeadRepository != "fork/app" || pr.HeadCloneURL == "" || !pr.Merged || !pr.Draft {
		t.Errorf("pull request = %+v", pr)
	}
}

// recorder is a notifier that keeps the event it received.
type recorder struct {
	minimal
	got sdk.Event
}

func (r *recorder) Send(_ context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	r.got = req.Event
	return &sdk.SendResponse{MessageID: "m-" + req.Event.ID}, nil
}

// detailsSet reports which details structs ev carries.
func detailsSet(ev sdk.Event) []bool {
	return []bool{ev.Deploy != nil, ev.Backup != nil, ev.Threshold != nil, ev.Cleanup != nil, ev.Restart != nil,
		ev.Preview != nil, ev.Restore != nil, ev.Certificate != nil, ev.Plugin != nil, ev.Job != nil}
}

// TestEventsCrossTheWire sends a sample of every event type (and of an
// unknown one) through gRPC and checks each arrives unchanged, details and
// scope included.
func TestEventsCrossTheWire(t *testing.T) {
	impl := &recorder{}
	n := plugintest.Notifier(t, impl)
	for _, typ := range append(append([]sdk.EventType{}, sdk.EventTypes...), "plugintest.future") {
		t.Run(string(typ), func(t *testing.T) {
			want := plugintest.SampleEvent(typ)
			if _, err := n.Send(context.Background(), &sdk.SendRequest{Event: want}); err != nil {
				t.Fatal(err)
			}
			if typ != sdk.EventTest && typ != "plugintest.future" && !slices.Contains(detailsSet(want), true) {
				t.Errorf("SampleEvent(%s) carries no details", typ)
			}
			if !eventsEqual(impl.got, want) {
				t.Errorf("received %+v\nsent     %+v", impl.got, want)
			}
		})
	}
}

// TestEventJSON checks the documented JSON shape: snake_case names,
// durations in milliseconds, and a lossless round trip for every type.
func TestEventJSON(t *testing.T) {
	for _, typ := range sdk.EventTypes {
		t.Run(string(typ), func(t *testing.T) {
			want := plugintest.SampleEvent(typ)
			data, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			var got sdk.Event
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if !eventsEqual(got, want) {
				t.Errorf("round trip of %s\ngot  %+v\nwant %+v", data, got, want)
			}
		})
	}
	tests := []struct {
		typ  sdk.EventType
		want []string
	}{
		{sdk.EventDeployFailed, []string{`"type":"deploy.failed"`, `"organization_id":"0b6f3c2e-`, `"environment":"production"`,
			`"deploy":{"deployment_id":"dep-1"`, `"failed_step":"build"`, `"duration_ms":93000`}},
		{sdk.EventBackupMissed, []string{`"kind":"database"`, `"schedule":"0 3 * * *"`, `"missed_at":"2025-01-02T03:00:00Z"`, `"missed_runs":2`}},
		{sdk.EventRestoreFailed, []string{`"restore":{"restore_id":"rst-1"`, `"duration_ms":21000`}},
		{sdk.EventCertExpiring, []string{`"certificate":{"domains":["shop.example.com"`, `"not_after":"2025-01-12T00:00:00Z"`, `"days_left":9`}},
		{sdk.EventPluginCrashed, []string{`"plugin":{"plugin_id":"notifier.slack"`, `"restarts":3`}},
		{sdk.EventPreviewCreated, []string{`"preview":{"pull_request":17`, `"domain":"pr-17.api.shop.example.com"`}},
		{sdk.EventJobFailed, []string{`"job":{"job_id":"job-1"`, `"exit_code":2`}},
		{sdk.EventBerthRestarted, []string{`"previous_shutdown":"clean"`}},
	}
	for _, tt := range tests {
		data, _ := json.Marshal(plugintest.SampleEvent(tt.typ))
		for _, w := range tt.want {
			if !strings.Contains(string(data), w) {
				t.Errorf("JSON of %s lacks %s: %s", tt.typ, w, data)
			}
		}
		if strings.Contains(string(data), `"Duration"`) || strings.Contains(string(data), "OrganizationID") {
			t.Errorf("JSON of %s has Go field names: %s", tt.typ, data)
		}
	}
	data, _ := json.Marshal(plugintest.SampleEvent(sdk.EventBerthRestarted))
	if strings.Contains(string(data), "organization_id") {
		t.Errorf("an instance event names an organization: %s", data)
	}
}

// eventsEqual compares events, times by instant.
func eventsEqual(a, b sdk.Event) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.Time, b.Time = time.Time{}, time.Time{}
	if (a.Backup == nil) != (b.Backup == nil) || (a.Certificate == nil) != (b.Certificate == nil) {
		return false
	}
	if a.Backup != nil {
		if !a.Backup.MissedAt.Equal(b.Backup.MissedAt) {
			return false
		}
		ab, bb := *a.Backup, *b.Backup
		ab.MissedAt, bb.MissedAt = time.Time{}, time.Time{}
		a.Backup, b.Backup = &ab, &bb
	}
	if a.Certificate != nil {
		if !a.Certificate.NotAfter.Equal(b.Certificate.NotAfter) {
			return false
		}
		ac, bc := *a.Certificate, *b.Certificate
		ac.NotAfter, bc.NotAfter = time.Time{}, time.Time{}
		a.Certificate, b.Certificate = &ac, &bc
	}
	return reflect.DeepEqual(a, b)
}
