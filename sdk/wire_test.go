package sdk_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

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
