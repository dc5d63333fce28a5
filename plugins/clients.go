package plugins

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/berth-dev/berth/sdk"
)

// call runs fn on a leased plugin process and wraps its error with the
// plugin's id and op.
func call[P sdk.Plugin, R any](ctx context.Context, i *instance, op string, fn func(P) (R, error)) (R, error) {
	var zero R
	l, err := i.acquire(ctx)
	if err != nil {
		return zero, wrapErr(i.id, op, err)
	}
	p, ok := l.raw.(P)
	if !ok {
		_ = l.release(nil)
		return zero, wrapErr(i.id, op, ErrWrongKind)
	}
	r, err := fn(p)
	if err = l.release(err); err != nil {
		return zero, wrapErr(i.id, op, err)
	}
	return r, nil
}

// baseClient holds the methods every kind shares.
type baseClient struct {
	i *instance
}

// ID returns the plugin's id.
func (c baseClient) ID() string { return c.i.id }

// Info calls the plugin's Info.
func (c baseClient) Info(ctx context.Context, req *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return call(ctx, c.i, "Info", func(p sdk.Plugin) (*sdk.InfoResponse, error) { return p.Info(ctx, req) })
}

// ConfigSchema calls the plugin's ConfigSchema.
func (c baseClient) ConfigSchema(ctx context.Context, req *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return call(ctx, c.i, "ConfigSchema", func(p sdk.Plugin) (*sdk.ConfigSchemaResponse, error) { return p.ConfigSchema(ctx, req) })
}

// Configure applies settings. The host remembers the last settings the
// plugin accepted and re-applies them whenever it restarts the plugin.
// Invalid settings come back as a *sdk.ConfigError (use errors.As).
func (c baseClient) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	r, err := call(ctx, c.i, "Configure", func(p sdk.Plugin) (*sdk.ConfigureResponse, error) { return p.Configure(ctx, req) })
	if err == nil && req != nil {
		c.i.setSettings(req.Settings)
	}
	return r, err
}

// BuilderClient calls a builder plugin. It implements sdk.Builder.
type BuilderClient struct{ baseClient }

var _ sdk.Builder = (*BuilderClient)(nil)

// Detect calls the builder's Detect.
func (c *BuilderClient) Detect(ctx context.Context, req *sdk.DetectRequest) (*sdk.DetectResponse, error) {
	return call(ctx, c.i, "Detect", func(p sdk.Builder) (*sdk.DetectResponse, error) { return p.Detect(ctx, req) })
}

// Build calls the builder's Build, filling in the host's Docker Engine
// address when req.DockerHost is empty. Log lines reach req.Log as the
// plugin sends them.
func (c *BuilderClient) Build(ctx context.Context, req *sdk.BuildRequest) (*sdk.BuildResponse, error) {
	if req != nil && req.DockerHost == "" {
		r := *req
		r.DockerHost = c.i.h.opts.DockerHost
		req = &r
	}
	return call(ctx, c.i, "Build", func(p sdk.Builder) (*sdk.BuildResponse, error) { return p.Build(ctx, req) })
}

// GitProviderClient calls a git provider plugin. It implements
// sdk.GitProvider.
type GitProviderClient struct{ baseClient }

var _ sdk.GitProvider = (*GitProviderClient)(nil)

// Fetch calls the provider's Fetch.
func (c *GitProviderClient) Fetch(ctx context.Context, req *sdk.FetchRequest) (*sdk.FetchResponse, error) {
	return call(ctx, c.i, "Fetch", func(p sdk.GitProvider) (*sdk.FetchResponse, error) { return p.Fetch(ctx, req) })
}

// ListRepositories calls the provider's ListRepositories.
func (c *GitProviderClient) ListRepositories(ctx context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	return call(ctx, c.i, "ListRepositories", func(p sdk.GitProvider) (*sdk.ListRepositoriesResponse, error) { return p.ListRepositories(ctx, req) })
}

// ListBranches calls the provider's ListBranches.
func (c *GitProviderClient) ListBranches(ctx context.Context, req *sdk.ListBranchesRequest) (*sdk.ListBranchesResponse, error) {
	return call(ctx, c.i, "ListBranches", func(p sdk.GitProvider) (*sdk.ListBranchesResponse, error) { return p.ListBranches(ctx, req) })
}

// ParseWebhook calls the provider's ParseWebhook.
func (c *GitProviderClient) ParseWebhook(ctx context.Context, req *sdk.ParseWebhookRequest) (*sdk.ParseWebhookResponse, error) {
	return call(ctx, c.i, "ParseWebhook", func(p sdk.GitProvider) (*sdk.ParseWebhookResponse, error) { return p.ParseWebhook(ctx, req) })
}

// SetCommitStatus calls the provider's SetCommitStatus.
func (c *GitProviderClient) SetCommitStatus(ctx context.Context, req *sdk.SetCommitStatusRequest) (*sdk.SetCommitStatusResponse, error) {
	return call(ctx, c.i, "SetCommitStatus", func(p sdk.GitProvider) (*sdk.SetCommitStatusResponse, error) { return p.SetCommitStatus(ctx, req) })
}

// BackupTargetClient calls a backup target plugin. It implements
// sdk.BackupTarget.
type BackupTargetClient struct{ baseClient }

var _ sdk.BackupTarget = (*BackupTargetClient)(nil)

// Put calls the target's Put, streaming req.Body to the plugin.
func (c *BackupTargetClient) Put(ctx context.Context, req *sdk.PutRequest) (*sdk.PutResponse, error) {
	return call(ctx, c.i, "Put", func(p sdk.BackupTarget) (*sdk.PutResponse, error) { return p.Put(ctx, req) })
}

// Get calls the target's Get. The plugin counts as busy (it is not stopped
// for idleness) until the returned Body is closed.
func (c *BackupTargetClient) Get(ctx context.Context, req *sdk.GetRequest) (*sdk.GetResponse, error) {
	l, err := c.i.acquire(ctx)
	if err != nil {
		return nil, wrapErr(c.i.id, "Get", err)
	}
	p, ok := l.raw.(sdk.BackupTarget)
	if !ok {
		_ = l.release(nil)
		return nil, wrapErr(c.i.id, "Get", ErrWrongKind)
	}
	r, err := p.Get(ctx, req)
	if err != nil {
		return nil, wrapErr(c.i.id, "Get", l.release(err))
	}
	out := *r
	out.Body = &leasedBody{body: r.Body, lease: l}
	return &out, nil
}

// leasedBody holds its lease until closed; read errors name the plugin.
type leasedBody struct {
	body  io.ReadCloser
	lease *lease
	once  sync.Once
	err   error // first read error other than EOF
}

func (b *leasedBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if b.err == nil {
			b.err = err
		}
		return n, wrapErr(b.lease.i.id, "Get", err)
	}
	return n, err
}

func (b *leasedBody) Close() error {
	err := b.body.Close()
	b.once.Do(func() { _ = b.lease.release(b.err) })
	return err
}

// List calls the target's List.
func (c *BackupTargetClient) List(ctx context.Context, req *sdk.ListRequest) (*sdk.ListResponse, error) {
	return call(ctx, c.i, "List", func(p sdk.BackupTarget) (*sdk.ListResponse, error) { return p.List(ctx, req) })
}

// Delete calls the target's Delete.
func (c *BackupTargetClient) Delete(ctx context.Context, req *sdk.DeleteRequest) (*sdk.DeleteResponse, error) {
	return call(ctx, c.i, "Delete", func(p sdk.BackupTarget) (*sdk.DeleteResponse, error) { return p.Delete(ctx, req) })
}

// TestConnection calls the target's TestConnection.
func (c *BackupTargetClient) TestConnection(ctx context.Context, req *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	return call(ctx, c.i, "TestConnection", func(p sdk.BackupTarget) (*sdk.TestConnectionResponse, error) { return p.TestConnection(ctx, req) })
}

// NotifierClient calls a notifier plugin. It implements sdk.Notifier.
type NotifierClient struct{ baseClient }

var _ sdk.Notifier = (*NotifierClient)(nil)

// Send calls the notifier's Send.
func (c *NotifierClient) Send(ctx context.Context, req *sdk.SendRequest) (*sdk.SendResponse, error) {
	return call(ctx, c.i, "Send", func(p sdk.Notifier) (*sdk.SendResponse, error) { return p.Send(ctx, req) })
}

// TestConnection calls the notifier's TestConnection.
func (c *NotifierClient) TestConnection(ctx context.Context, req *sdk.TestConnectionRequest) (*sdk.TestConnectionResponse, error) {
	return call(ctx, c.i, "TestConnection", func(p sdk.Notifier) (*sdk.TestConnectionResponse, error) { return p.TestConnection(ctx, req) })
}
