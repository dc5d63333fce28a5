package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/berth-dev/berth/core/app"
	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/core/workingset"
)

func runServer(ctx context.Context, args []string) int {
	if len(args) > 0 {
		fmt.Fprintln(os.Stderr, "usage: berth server   (configured through environment variables; see docs/configuration.md)")
		return 2
	}
	// The control plane's heap is small; a soft limit keeps the runtime from
	// growing it lazily. GOMEMLIMIT from the environment wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "berth server: configuration:", err)
		return 2
	}
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	start := time.Now()
	srv, err := app.Start(ctx, cfg, log, version)
	if err != nil {
		log.Error("berth server failed to start", "err", err)
		return 1
	}
	log.Info("berth is running", "url", cfg.PublicURL, "api", cfg.PublicURL+"/api/v1", "listen", srv.Addr(),
		"data_dir", cfg.DataDir, "startup", time.Since(start).Round(time.Millisecond))
	go workingset.Run(ctx, workingset.Options{Logger: log.With("component", "workingset")})
	<-ctx.Done()
	log.Info("shutting down; the proxy keeps serving")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
