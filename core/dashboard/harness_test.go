package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/changefeed"
	"github.com/berth-dev/berth/core/service"
	"github.com/riverqueue/river"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/database"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/teardown"
	"github.com/berth-dev/berth/sdk"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// harness is the API with the dashboard registered on it, exactly as
// core/app wires them, on a fresh database.
type harness struct {
	t          *testing.T
	dbURL      string
	srv        *api.Server
	dash       *Dashboard
	store      *store.Store
	setupToken string
	deployer   *fakeDeployer
	databases  *fakeDatabases
	swarm      *fakeSwarm
	notifiers  *fakeNotifiers
	// clock drives the sign-in throttle the API and the dashboard share.
	clock *fakeClock
}

// watchRoutes counts, from now on, the committed application and domain
// changes routing hears of (core/changefeed). The returned function waits
// until no change arrived for a moment, then returns the count.
func (h *harness) watchRoutes() func() int {
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	feed := changefeed.New(h.store.Pool(), nil)
	var n atomic.Int32
	feed.Subscribe(func(c changefeed.Change) {
		if c.Table != changefeed.Resync {
			n.Add(1)
		}
	}, changefeed.Applications, changefeed.Domains)
	ready := make(chan struct{})
	go feed.Run(ctx, ready)
	<-ready
	return func() int {
		last := int(n.Load())
		for {
			time.Sleep(300 * time.Millisecond)
			cur := int(n.Load())
			if cur == last {
				return cur
			}
			last = cur
		}
	}
}

var testKey = bytes.Repeat([]byte{7}, secrets.KeySize)

func newHarness(t *testing.T) *harness {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	box, err := secrets.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), dbURL, box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, holder := auth.NewSetupToken()
	h := &harness{t: t, dbURL: dbURL, store: st, setupToken: tok, deployer: &fakeDeployer{store: st}, databases: &fakeDatabases{store: st},
		swarm: &fakeSwarm{}, notifiers: &fakeNotifiers{}}
	csrfKey := box.Derive("csrf")
	h.clock = &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	signIn := ratelimit.NewGuard(ratelimit.DefaultGuardPolicy(), h.clock.Now)
	td := teardown.New(teardown.Deps{Store: st, Swarm: h.swarm, Databases: h.databases, Deployments: h.deployer,
		Instance: "berth"})
	guard := hostaccess.NewGuard(st, map[string]int{"the berth API": 7080, "Traefik HTTP": 80, "Traefik HTTPS": 443})
	svc := service.New(service.Deps{Store: st, HostAccess: guard, Teardown: td, Deployer: h.deployer,
		Data: service.DataDeps{Ops: h.databases, Jobs: h.databases}, Notifiers: h.notifiers})
	// The API's own service layer, as before, but with the notifier
	// plugins, so both doors can manage notification channels.
	apiSvc := service.New(service.Deps{Store: st, Teardown: td, Deployer: h.deployer, Notifiers: h.notifiers})
	h.srv = api.New(api.Options{Store: st, Setup: holder, CSRFKey: csrfKey, Deployer: h.deployer,
		Plugins: fakePlugins{}, SignIn: signIn, Teardown: td, Services: apiSvc})
	h.dash = New(Options{Store: st, Setup: holder, CSRFKey: csrfKey, Deployer: h.deployer, Plugins: fakePlugins{}, Teardown: td,
		PluginSettings: fakePlugins{}, Services: svc, GitProviders: fakeGit{}, PublicURL: "https://berth.example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SignIn: signIn, HostAccess: guard})
	h.dash.Register(h.srv.App())
	h.checkReachable()
	return h
}

// checkReachable fails with the fix when the API's catch-all answers before
// the dashboard's routes.
func (h *harness) checkReachable() {
	h.t.Helper()
	resp := newClient(h).do("GET", "/login", nil)
	if resp.Status == http.StatusNotFound && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		h.t.Fatalf("the dashboard's routes are unreachable: core/api's catch-all 404 (the last app.Use in api.New) answers first.\n" +
			"Limit it to the API's prefix: in core/api/server.go change `s.app.Use(func(c *fiber.Ctx) error {` to `s.app.Use(Prefix, func(c *fiber.Ctx) error {`")
	}
}

// fakeDeployer records deployments in the store without running them.
type fakeDeployer struct {
	store   *store.Store
	removed atomic.Int32
}

func (f *fakeDeployer) Deploy(ctx context.Context, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	return f.store.CreateDeployment(ctx, a.ID, in)
}

func (f *fakeDeployer) Rollback(ctx context.Context, a store.Application, target store.Deployment, by *uuid.UUID) (store.Deployment, error) {
	return f.store.CreateDeployment(ctx, a.ID, store.NewDeployment{Kind: store.KindRollback, Trigger: "rollback",
		Image: target.Image, RollbackOf: &target.ID, CreatedBy: by})
}

func (f *fakeDeployer) DeployTx(ctx context.Context, tx *store.Tx, a store.Application, in store.NewDeployment) (store.Deployment, error) {
	return tx.CreateDeployment(ctx, a.ID, in)
}

func (f *fakeDeployer) RemoveReleaseImages(context.Context, store.Application) error { return nil }

// CanaryOp records nothing: no worker runs here.
func (f *fakeDeployer) CanaryOp(context.Context, store.Deployment, string, string) error { return nil }

func (f *fakeDeployer) Cancel(ctx context.Context, d store.Deployment) error {
	_, err := f.store.RequestCancel(ctx, d.ID)
	return err
}

func (f *fakeDeployer) RemoveApplications(context.Context, []store.Application) error {
	f.removed.Add(1)
	return nil
}

// fakeSwarm records the Swarm objects the teardown removes (the real
// removal is tested against Docker Swarm in core/teardown).
type fakeSwarm struct {
	mu                 sync.Mutex
	services, networks []string
}

func (f *fakeSwarm) Remove(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services = append(f.services, name)
	return nil
}

func (f *fakeSwarm) RemoveNetwork(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.networks = append(f.networks, name)
	return nil
}

func (f *fakeSwarm) RemoveVolumes(context.Context, string, string) ([]string, error) { return nil, nil }

// fakePlugins lists two builders and a notifier with a settings schema.
type fakePlugins struct{}

// ConfigurePlugin refuses a URL on example.org the way a plugin's own
// Configure would, and accepts anything else.
func (fakePlugins) ConfigurePlugin(_ context.Context, _ string, settings json.RawMessage) error {
	if strings.Contains(string(settings), "example.org") {
		return sdk.NewConfigError("url", "example.org does not accept webhooks")
	}
	return nil
}

const webhookSchema = `{
  "type": "object", "title": "Webhook", "description": "Posts events to a URL.",
  "required": ["url"],
  "properties": {
    "url": {"type": "string", "title": "URL", "description": "Where events are posted.", "pattern": "^https?://"},
    "secret": {"type": "string", "title": "Signing secret", "writeOnly": true, "minLength": 8},
    "timeout_seconds": {"type": "integer", "title": "Timeout", "minimum": 1, "maximum": 60, "default": 10},
    "events": {"type": "string", "title": "Events", "enum": ["all", "failures"], "default": "all"},
    "verbose": {"type": "boolean", "title": "Include logs", "default": true},
    "headers": {"type": "object", "title": "Extra headers"}
  }
}`

func (fakePlugins) ListPlugins(context.Context) ([]api.PluginInfo, error) {
	return []api.PluginInfo{
		{ID: "builder.dockerfile", Kind: "builder", Version: "1.0.0", Health: "not_started", Schema: json.RawMessage(`{"type":"object","properties":{}}`)},
		{ID: "builder.static", Kind: "builder", Version: "1.0.0", Health: "running", Schema: json.RawMessage(`{"type":"object"}`),
			AppSchema: json.RawMessage(webhookSchema)},
		{ID: "notifier.webhook", Kind: "notifier", Version: "0.3.1", Health: "crashed", LastError: "exit status 2",
			Capabilities: []string{"retries"}, Schema: json.RawMessage(webhookSchema)},
		{ID: "backup.local", Kind: "backup", Version: "1.0.0", Health: "running", Schema: json.RawMessage(localBackupSchema)},
		{ID: "backup.s3", Kind: "backup", Version: "1.0.0", Health: "running", Schema: json.RawMessage(s3Schema)},
		{ID: "git.github", Kind: "git", Version: "1.0.0", Health: "running", Schema: json.RawMessage(`{"type":"object"}`)},
	}, nil
}

// localBackupSchema is backup.local's settings schema: directory is marked
// as a host path, which only instance administrators may choose freely.
const localBackupSchema = `{"type": "object", "title": "Local directory", "required": ["directory"],
  "properties": {"directory": {"type": "string", "title": "Directory", "pattern": "^/", "x-berth-host-path": true}}}`

// s3Schema has a write-only secret, like backup.s3's.
const s3Schema = `{"type": "object", "title": "S3", "required": ["bucket", "secret_access_key"],
  "properties": {"bucket": {"type": "string", "title": "Bucket"},
    "endpoint": {"type": "string", "title": "Endpoint", "x-berth-outbound-url": true},
    "secret_access_key": {"type": "string", "title": "Secret access key", "writeOnly": true}}}`

// fakeDatabases records what the pages ask of the database services; the
// services themselves are tested in core/dbservice and core/backup.
type fakeDatabases struct {
	store    *store.Store
	deployed atomic.Int32
	mu       sync.Mutex // guards deleted (the teardown deletes concurrently)
	deleted  []bool     // deleteVolume of each delete
	restores []uuid.UUID
	failNext error
}

func (f *fakeDatabases) Deploy(context.Context, store.Database) error {
	f.deployed.Add(1)
	err := f.failNext
	f.failNext = nil
	return err
}

func (f *fakeDatabases) Delete(_ context.Context, _ store.Database, deleteVolume bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, deleteVolume)
	return nil
}

func (f *fakeDatabases) TestDestination(_ context.Context, d store.BackupDestination) (string, error) {
	if strings.Contains(string(d.Settings), "/missing") {
		return "", errors.New("directory /missing does not exist")
	}
	return "wrote and removed a probe file", nil
}

func (f *fakeDatabases) ListObjects(context.Context, store.BackupDestination, string) ([]service.BackupObject, error) {
	return nil, nil
}

// InsertTx stands in for the job queue: backups are recorded by the
// service layer, their jobs never run.
func (f *fakeDatabases) InsertTx(context.Context, pgx.Tx, river.JobArgs, *river.InsertOpts) (int64, bool, error) {
	return 1, true, nil
}

func (f *fakeDatabases) StartRestore(ctx context.Context, in store.NewRestore) (store.Restore, error) {
	f.restores = append(f.restores, *in.DatabaseID)
	if f.failNext != nil {
		return store.Restore{}, f.failNext
	}
	return f.store.CreateRestore(ctx, in, func(context.Context, pgx.Tx, store.Restore) (int64, error) { return 0, nil })
}

func (f *fakeDatabases) CancelRestore(ctx context.Context, r store.Restore) (store.Restore, error) {
	return r, service.ErrRestoreEnded
}

// fakeGit is a git provider plugin that sees two repositories when the
// token is "good".
type fakeGit struct{}

func (fakeGit) GitProvider(_ context.Context, id string) (sdk.GitProvider, error) {
	if id != "git.github" {
		return nil, errors.New("no such plugin " + id)
	}
	return gitProvider{}, nil
}

type gitProvider struct{ sdk.UnimplementedGitProvider }

func (gitProvider) ListRepositories(_ context.Context, req *sdk.ListRepositoriesRequest) (*sdk.ListRepositoriesResponse, error) {
	if req.Credentials == nil || req.Credentials.Token != "good" {
		return nil, sdk.ErrUnauthenticated
	}
	return &sdk.ListRepositoriesResponse{Repositories: []sdk.Repository{{FullName: "acme/shop"}, {FullName: "acme/blog"}}}, nil
}

// client is a browser stand-in: it keeps cookies and reads the CSRF token
// from the last page.
type client struct {
	h       *harness
	cookies map[string]string
	csrf    string
	// bearer, when set, authenticates API calls with a key instead.
	bearer string
}

func newClient(h *harness) *client { return &client{h: h, cookies: map[string]string{}} }

type response struct {
	Status int
	Body   string
	Header http.Header
}

// Location is the redirect target.
func (r response) Location() string { return r.Header.Get("Location") }

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// json sends a JSON body to the API with the client's cookies.
func (c *client) json(method, path, body string, headers ...string) response {
	c.h.t.Helper()
	return c.send(method, path, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// do sends a request; form (for POST) is url-encoded. The CSRF token of an
// HTML answer is remembered for the next form.
func (c *client) do(method, path string, form url.Values, headers ...string) response {
	c.h.t.Helper()
	if form == nil {
		return c.send(method, path, nil, headers...)
	}
	return c.send(method, path, strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, headers...)...)
}

func (c *client) send(method, path string, body io.Reader, headers ...string) response {
	c.h.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for name, value := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.h.srv.App().Test(req, -1)
	if err != nil {
		c.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	if m := csrfInput.FindStringSubmatch(string(data)); m != nil {
		c.csrf = m[1]
	}
	return response{Status: resp.StatusCode, Body: string(data), Header: resp.Header}
}

// post submits a form with the current CSRF token.
func (c *client) post(path string, form url.Values) response {
	c.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get(csrfField) == "" {
		form.Set(csrfField, c.csrf)
	}
	return c.do("POST", path, form)
}

// must fails unless the answer has status.
func (c *client) must(status int, r response) response {
	c.h.t.Helper()
	if r.Status != status {
		body := r.Body
		if len(body) > 3000 {
			body = body[:3000]
		}
		c.h.t.Fatalf("status %d, want %d (Location %q):\n%s", r.Status, status, r.Location(), body)
	}
	return r
}

const password = "correct horse battery"

// setup creates the first administrator through the setup page and returns
// the signed-in client.
func (h *harness) setup() *client {
	h.t.Helper()
	c := newClient(h)
	c.must(200, c.do("GET", "/setup", nil))
	r := c.must(303, c.post("/setup", url.Values{"token": {h.setupToken}, "email": {"admin@example.com"}, "name": {"Admin"},
		"password": {password}, "organization": {"Acme"}}))
	if r.Location() != "/" {
		h.t.Fatalf("setup redirected to %q", r.Location())
	}
	c.must(200, c.do("GET", "/", nil))
	return c
}

// signIn signs a user in through the sign-in page.
func (h *harness) signIn(email string) *client {
	h.t.Helper()
	c := newClient(h)
	c.must(200, c.do("GET", "/login", nil))
	c.must(303, c.post("/login", url.Values{"email": {email}, "password": {password}}))
	c.must(200, c.do("GET", "/", nil))
	return c
}

// fixture is a project tree with one of everything.
type fixture struct {
	org        uuid.UUID
	project    store.Project
	env        store.Environment
	app        store.Application
	domain     store.Domain
	deployment store.Deployment
	keyID      uuid.UUID
	database   store.Database
	dest       store.BackupDestination
	policy     store.BackupPolicy
	conn       store.GitConnection
	backup     store.Backup
	channel    store.NotificationChannel
}

// Secrets the fixture seals; no page may ever contain them.
const (
	fixtureDBPassword   = "db-password-never-shown-to-viewers"
	fixtureDestSecret   = "dest-secret-never-rendered"
	fixtureGitToken     = "git-token-never-rendered"
	fixtureDestSettings = `{"bucket": "acme", "secret_access_key": "` + fixtureDestSecret + `"}`
)

func (h *harness) fixture(admin *client) fixture {
	h.t.Helper()
	ctx := context.Background()
	u, err := h.store.GetUserByEmail(ctx, "admin@example.com")
	if err != nil {
		h.t.Fatal(err)
	}
	orgs, _, err := h.store.ListOrganizations(ctx, u.ID, store.Page{})
	if err != nil || len(orgs) != 1 {
		h.t.Fatalf("organizations: %v %v", orgs, err)
	}
	f := fixture{org: orgs[0].ID}
	if f.project, f.env, err = h.store.CreateProject(ctx, f.org, "Shop", "the shop"); err != nil {
		h.t.Fatal(err)
	}
	if f.app, err = h.store.CreateApplication(ctx, f.env.ID, store.ApplicationSpec{Name: "web", SourceType: "git",
		GitRepository: "https://example.com/shop.git", GitRef: "main", BuildType: "dockerfile", Port: 8080, Replicas: 1}); err != nil {
		h.t.Fatal(err)
	}
	if f.domain, err = h.store.CreateDomain(ctx, f.app.ID, store.DomainSpec{Host: "shop.example.com", HTTPS: "none"}); err != nil {
		h.t.Fatal(err)
	}
	if f.deployment, err = h.store.CreateDeployment(ctx, f.app.ID, store.NewDeployment{}); err != nil {
		h.t.Fatal(err)
	}
	k, err := h.store.CreateAPIKey(ctx, u.ID, "ci", auth.NewToken(auth.APIKeyPrefix), nil)
	if err != nil {
		h.t.Fatal(err)
	}
	f.keyID = k.ID
	if f.database, err = h.store.CreateDatabase(ctx, f.env.ID, store.DatabaseSpec{Name: "main-db", Engine: "postgres", Version: "16"},
		database.Credentials{User: "shop", Password: fixtureDBPassword, Database: "shop"}); err != nil {
		h.t.Fatal(err)
	}
	if f.dest, err = h.store.CreateBackupDestination(ctx, f.org, "offsite", "backup.s3", json.RawMessage(fixtureDestSettings)); err != nil {
		h.t.Fatal(err)
	}
	if f.policy, err = h.store.CreateBackupPolicy(ctx, &f.database.ID, nil, f.dest.ID, store.BackupPolicySpec{Schedule: "@daily",
		TimeZone: "UTC", KeepLatest: 7, Retries: 2, Enabled: true}); err != nil {
		h.t.Fatal(err)
	}
	if f.conn, err = h.store.CreateGitConnection(ctx, f.org, store.GitConnectionSpec{Name: "acme on GitHub", Provider: "git.github",
		Credentials: store.ConnectionCredentials{Token: fixtureGitToken}}); err != nil {
		h.t.Fatal(err)
	}
	if f.backup, _, err = h.store.CreateBackup(ctx, store.NewBackup{PolicyID: &f.policy.ID, DatabaseID: &f.database.ID,
		DestinationID: f.dest.ID, Kind: "database", Status: store.BackupQueued, Trigger: store.TriggerSchedule}); err != nil {
		h.t.Fatal(err)
	}
	if err := h.store.FinishBackup(ctx, f.backup.ID, store.BackupSucceeded, "main-db/1.dump", 2048, strings.Repeat("ab", 32), ""); err != nil {
		h.t.Fatal(err)
	}
	if f.channel, err = h.store.CreateNotificationChannel(ctx, f.org, "notifier.webhook", store.ChannelChange{Name: "fixture alerts",
		Settings: json.RawMessage(`{"url": "https://hooks.example.com/fixture", "secret": "` + fixtureDestSecret + `"}`),
		Events:   []string{"deploy.failed"}, Enabled: true}); err != nil {
		h.t.Fatal(err)
	}
	return f
}

// addUser creates a user with role in org.
func (h *harness) addUser(org uuid.UUID, email string, role store.Role) {
	h.t.Helper()
	hash, err := auth.HashPassword(password)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.CreateUser(context.Background(), org, email, "User", hash, role); err != nil {
		h.t.Fatal(err)
	}
}

// concrete fills a route's parameters with the fixture's ids.
func (f fixture) concrete(rt route) string {
	parts := strings.Split(rt.path, "/")
	for i, p := range parts {
		switch p {
		case ":id":
			switch rt.resource {
			case service.ProjectResource:
				parts[i] = f.project.ID.String()
			case service.EnvironmentResource:
				parts[i] = f.env.ID.String()
			case service.ApplicationResource:
				parts[i] = f.app.ID.String()
			case service.DomainResource:
				parts[i] = f.domain.ID.String()
			case service.DeploymentResource:
				parts[i] = f.deployment.ID.String()
			case service.DatabaseResource:
				parts[i] = f.database.ID.String()
			case service.OrganizationResource:
				parts[i] = f.org.String()
			case service.DestinationResource:
				parts[i] = f.dest.ID.String()
			case service.ConnectionResource:
				parts[i] = f.conn.ID.String()
			case service.PolicyResource:
				parts[i] = f.policy.ID.String()
			}
		case ":plugin":
			parts[i] = "notifier.webhook"
		case ":key":
			parts[i] = f.keyID.String()
		case ":channel":
			parts[i] = f.channel.ID.String()
		case ":name":
			parts[i] = "app.css"
		}
	}
	return strings.Join(parts, "/")
}

// dashboardRoutes are the Fiber routes that are not the API's.
func (h *harness) dashboardRoutes() []fiber.Route {
	apiRoutes := map[string]bool{}
	for _, r := range h.srv.Routes() {
		apiRoutes[r.Method+" "+r.Path] = true
		if r.Method == "GET" {
			apiRoutes["HEAD "+r.Path] = true
		}
	}
	var out []fiber.Route
	for _, r := range h.srv.App().GetRoutes(true) {
		if !apiRoutes[r.Method+" "+r.Path] {
			out = append(out, r)
		}
	}
	return out
}
