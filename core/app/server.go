// Package app wires berth's server together and runs it: data directory and
// secret key, the database (embedded or external), migrations, the setup
// token, the proxy, and the HTTP API. It is the only package that imports
// every other core package.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/core/canary"
	"github.com/berth-dev/berth/core/changefeed"
	"github.com/berth-dev/berth/core/service"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/atomicfile"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/core/dashboard"
	"github.com/berth-dev/berth/core/deploy"
	"github.com/berth-dev/berth/core/deploylog"
	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/metrics"
	"github.com/berth-dev/berth/core/netguard"
	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/pagesvc"
	"github.com/berth-dev/berth/core/pgembed"
	"github.com/berth-dev/berth/core/proxy"
	"github.com/berth-dev/berth/core/proxystats"
	"github.com/berth-dev/berth/core/queue"
	"github.com/berth-dev/berth/core/ratelimit"
	"github.com/berth-dev/berth/core/routing"
	"github.com/berth-dev/berth/core/runtimelog"
	"github.com/berth-dev/berth/core/secrets"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/webhook"
	"github.com/berth-dev/berth/plugins"
	"github.com/docker/docker/client"
)

// SetupTokenFile is the file in the data directory holding the one-time
// setup token until the first administrator exists.
const SetupTokenFile = "setup-token"

// Server is a running berth server.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	version string

	pg       *pgembed.Cluster
	store    *store.Store
	docker   *client.Client
	traefik  *proxy.Traefik
	syncer   *routing.Syncer
	api      *api.Server
	plugins  *plugins.Host
	hub      *deploylog.Hub
	pipeline *deploy.Pipeline
	// deployments queues, rolls back and cancels deployments and removes
	// services; set with pipeline (not with BERTH_DISABLE_PROXY).
	deployments deployments
	events      *notify.Dispatcher
	notices     instanceEvents // berth.restarted, plugin.crashed, certificates (events.go)
	queue       *queue.Queue
	// outbound checks the addresses tenants aim requests at (netguard).
	outbound *netguard.Guard
	// databases runs database services and backups (nil without Docker).
	databases *databaseOps
	metrics   *metrics.Sampler // host and workload metrics (metrics.go)
	ln        net.Listener

	cancel context.CancelFunc
	done   chan struct{}
}

// Start brings up everything the server needs and starts serving; it
// returns once the API answers. Call Shutdown to stop.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger, version string) (_ *Server, err error) {
	s := &Server{cfg: cfg, log: log, version: version, done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.closeResources(context.WithoutCancel(ctx))
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	key := cfg.SecretKey
	if key == nil {
		if key, err = secrets.LoadOrCreateKey(ctx, filepath.Join(cfg.DataDir, "secret.key")); err != nil {
			return nil, err
		}
	}
	box, err := secrets.New(key)
	if err != nil {
		return nil, err
	}

	// Listen first so the port is held (and answers) as early as possible.
	if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s (BERTH_ADDR): %w", cfg.Addr, err)
	}

	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		s.pg, err = pgembed.Start(ctx, pgembed.Options{Dir: filepath.Join(cfg.DataDir, "postgres"),
			BinDir: cfg.PostgresBinDir, Logger: log.With("component", "postgres")})
		if err != nil {
			return nil, fmt.Errorf("embedded postgres: %w", err)
		}
		dbURL = s.pg.URL()
		log.Info("embedded postgres running", "dir", filepath.Join(cfg.DataDir, "postgres"), "pid", s.pg.PID())
	}
	if s.store, err = store.Open(ctx, dbURL, box); err != nil {
		return nil, err
	}
	if err := s.store.Migrate(ctx); err != nil {
		return nil, err
	}
	s.outbound = api.NewOutboundGuard(s.store)
	go auth.Warm()

	setup, err := s.prepareSetupToken(ctx)
	if err != nil {
		return nil, err
	}

	proxies, err := api.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("BERTH_TRUSTED_PROXIES: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	// One sign-in throttle for the API and the dashboard: both count the
	// same failures.
	signIn := ratelimit.NewGuard(ratelimit.DefaultGuardPolicy(), nil)
	opts := api.Options{Store: s.store, Logger: log.With("component", "api"), Setup: setup,
		CSRFKey: box.Derive("csrf"), SessionTTL: cfg.SessionTTL, SecureCookies: cfg.SecureCookies, Version: version,
		SignIn: signIn, TrustedProxies: proxies, Outbound: s.outbound,
		HostAccess: hostaccess.NewGuard(s.store, reservedPorts(cfg))}
	if err := s.startPlugins(ctx); err != nil {
		return nil, err
	}
	opts.Plugins = pluginLister{host: s.plugins}
	opts.PluginSettings = pluginLister{host: s.plugins}
	if s.docker, err = newDockerClient(cfg); err != nil {
		return nil, err
	}
	if !cfg.DisableProxy {
		if err := s.startProxy(ctx); err != nil {
			return nil, err
		}
		go s.syncer.Run(runCtx)
		s.startRequests(runCtx) // request analytics (issue 17)
		if err := s.startDeployments(ctx, runCtx); err != nil {
			return nil, err
		}
		opts.Deployer, opts.Logs = s.deployments, s.hub
	}
	s.startEvents(runCtx)
	s.startMetrics(runCtx, &opts) // metrics
	s.startAlerts()
	if err := s.startChangeFeed(ctx, runCtx); err != nil {
		return nil, err
	}
	opts.Teardown = s.newTeardown(ctx)
	opts.RuntimeLogs = runtimelog.New(s.docker) // issue 17, logs
	svcDeps := service.Deps{Store: s.store, HostAccess: opts.HostAccess, Teardown: opts.Teardown, Outbound: s.outbound,
		Logger: log.With("component", "service"), Data: s.dataDeps(), Builders: pluginLister{host: s.plugins},
		Notifiers: notifierPlugins{s.plugins}}
	if s.pipeline != nil {
		svcDeps.Deployer = s.deployments
	}
	if s.traefik != nil {
		svcDeps.Pages = pagesvc.New(s.docker, pagesvc.Options{Instance: cfg.Name, Network: s.traefik.Options().Network,
			Logger: log.With("component", "pages")})
	}
	opts.Services = service.New(svcDeps)
	s.wireServiceEvents(opts.Services)
	if s.pipeline != nil && s.traefik != nil {
		svc := opts.Services
		promote := func(ctx context.Context, d store.Deployment) error {
			_, err := svc.Deployments.Promote(ctx, service.System, d)
			return err
		}
		go canary.New(s.store, proxystats.NewClient(s.traefik.MetricsURL(), nil), promote, log.With("component", "canary")).Run(runCtx)
	}
	go s.settlePages(runCtx, opts.Services)
	opts.GitProviders = gitProviders{host: s.plugins}
	opts.PublicURL = cfg.PublicURL
	hooks := webhook.Options{Store: s.store, Providers: opts.GitProviders, Logger: log.With("component", "webhook"),
		Outbound: s.outbound, HostAccess: opts.HostAccess, Services: opts.Services}
	opts.Webhooks = webhook.New(hooks)
	s.api = api.New(opts)
	dashboard.New(dashboard.Options{Store: s.store, Setup: setup, CSRFKey: opts.CSRFKey, SessionTTL: cfg.SessionTTL,
		SecureCookies: cfg.SecureCookies, Deployer: opts.Deployer, Logs: opts.Logs, Plugins: opts.Plugins,
		Services: opts.Services, PluginSettings: opts.PluginSettings, Teardown: opts.Teardown,
		GitProviders: gitProviders{host: s.plugins}, PublicURL: cfg.PublicURL, Logger: log.With("component", "dashboard"),
		SignIn: signIn, Outbound: s.outbound, HostAccess: opts.HostAccess, Metrics: s.metrics,
		RuntimeLogs: opts.RuntimeLogs, // issue 17, logs
	}).Register(s.api.App())
	go func() {
		defer close(s.done)
		if err := s.api.App().Listener(s.ln); err != nil {
			log.Error("api server stopped", "err", err)
		}
	}()
	go s.housekeeping(runCtx)
	return s, nil
}

// startChangeFeed listens for committed changes (core/changefeed) and
// has routing follow every change of an application or a domain, whoever
// made it. It returns once the feed listens, so no later commit goes
// unheard.
func (s *Server) startChangeFeed(ctx, runCtx context.Context) error {
	feed := changefeed.New(s.store.Pool(), s.log.With("component", "changefeed"))
	if s.syncer != nil {
		syncer := s.syncer
		feed.Subscribe(func(changefeed.Change) { syncer.RoutesChanged() }, changefeed.Applications, changefeed.Domains, changefeed.Deployments)
	}
	ready := make(chan struct{})
	go feed.Run(runCtx, ready)
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("change feed: %w", ctx.Err())
	case <-time.After(30 * time.Second):
		return fmt.Errorf("change feed: could not listen on PostgreSQL within 30s")
	}
}

// startProxy makes sure Traefik runs (leaving a healthy one untouched) and
// publishes the current routes.
func (s *Server) startProxy(ctx context.Context) error {
	var err error
	name := s.cfg.Name
	s.traefik, err = proxy.NewTraefik(s.docker, proxy.Options{
		Name: name + "-traefik", Image: s.cfg.Proxy.Image, Network: name + "-proxy",
		DataDir:  filepath.Join(s.cfg.DataDir, "traefik"),
		HTTPPort: s.cfg.Proxy.HTTPPort, HTTPSPort: s.cfg.Proxy.HTTPSPort, APIPort: s.cfg.Proxy.APIPort,
		Static: proxy.StaticOptions{ACMEEmail: s.cfg.Proxy.ACMEEmail},
		Labels: map[string]string{"dev.berth.instance": name},
	})
	if err != nil {
		return err
	}
	o := s.traefik.Options()
	s.syncer = routing.NewSyncer(s.store, s.traefik.Publisher(), o.CertsDir, proxy.ContainerCertsDir, s.log.With("component", "routing"))
	// Publish before Ensure so a newly created Traefik starts with the routes.
	if err := os.MkdirAll(o.DynamicDir, 0o755); err != nil {
		return fmt.Errorf("create proxy config dir: %w", err)
	}
	if err := s.syncer.Sync(ctx); err != nil {
		return err
	}
	action, err := s.traefik.Ensure(ctx)
	if err != nil {
		return fmt.Errorf("traefik: %w", err)
	}
	allow, err := s.traefik.APIAllowFrom(ctx)
	if err != nil {
		return fmt.Errorf("traefik: %w", err)
	}
	s.syncer.SetAPIAllowFrom(allow)
	if err := s.syncer.Sync(ctx); err != nil {
		return err
	}
	s.log.Info("traefik ready", "action", action, "container", o.Name, "http_port", o.HTTPPort, "api", s.traefik.APIURL())
	return nil
}

func (s *Server) prepareSetupToken(ctx context.Context) (*auth.SetupToken, error) {
	path := filepath.Join(s.cfg.DataDir, SetupTokenFile)
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		_ = os.Remove(path)
		return nil, nil
	}
	token, holder := auth.NewSetupToken()
	if err := atomicfile.WriteFile(ctx, path, []byte(token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write setup token: %w", err)
	}
	s.log.Info("berth is not set up yet: create the first administrator with the one-time setup token",
		"url", s.cfg.PublicURL, "setup_token_file", path)
	fmt.Fprintf(os.Stderr, "\n  Setup token (one time): %s\n  Create the first admin: %s setup --server %s --setup-token %s --email you@example.com\n\n",
		token, os.Args[0], s.cfg.PublicURL, token)
	return holder, nil
}

// housekeeping removes expired sessions and the setup token file once used.
func (s *Server) housekeeping(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.store.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("deleting expired sessions failed", "err", err)
			}
			if n, err := s.store.CountUsers(ctx); err == nil && n > 0 {
				_ = os.Remove(filepath.Join(s.cfg.DataDir, SetupTokenFile))
			}
		}
	}
}

// Addr returns the address the API listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Postgres returns the embedded cluster, or nil with DATABASE_URL.
func (s *Server) Postgres() *pgembed.Cluster { return s.pg }

// Shutdown stops the API (finishing in-flight requests), background work and
// the embedded PostgreSQL. Traefik keeps running and serving routes.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	if s.api != nil {
		if err := s.api.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("api shutdown: %w", err))
		}
		// Closing the listener also ends a Serve that had not started yet
		// when Shutdown ran.
		_ = s.ln.Close()
		select {
		case <-s.done:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("api shutdown: %w", ctx.Err()))
		}
	}
	if s.pipeline != nil {
		s.pipeline.Stopping()
	}
	if s.queue != nil {
		if err := s.queue.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.cancel != nil {
		s.cancel()
	}
	errs = append(errs, s.closeResources(ctx))
	s.markStopped()
	return errors.Join(errs...)
}

func (s *Server) closeResources(ctx context.Context) error {
	var errs []error
	if s.ln != nil && s.api == nil {
		s.ln.Close()
	}
	if s.plugins != nil {
		if err := s.plugins.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop plugins: %w", err))
		}
	}
	if s.store != nil {
		s.store.Close()
	}
	if s.docker != nil {
		s.docker.Close()
	}
	if s.pg != nil {
		if err := s.pg.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop embedded postgres: %w", err))
		}
	}
	return errors.Join(errs...)
}

// settlePages starts or removes the maintenance page server to match the
// stored state (see service.Applications.SettlePages).
func (s *Server) settlePages(ctx context.Context, svc *service.Services) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := svc.Applications.SettlePages(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("settling the maintenance page server failed; entering maintenance mode retries", "err", err)
	}
}
