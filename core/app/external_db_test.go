package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-dev/berth/core/app"
	"github.com/berth-dev/berth/core/config"
	"github.com/berth-dev/berth/core/pgembed/pgtest"
	"github.com/berth-dev/berth/test/dockertest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestExternalDatabase runs berth on DATABASE_URL: no embedded cluster is
// started and migrations are applied to that server.
func TestExternalDatabase(t *testing.T) {
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = filepath.Join(dockertest.SearchableTempDir(t), "data")
	cfg.DatabaseURL = pgtest.NewDatabase(t)
	cfg.Addr = fmt.Sprintf("127.0.0.1:%d", dockertest.FreePort(t))
	cfg.DisableProxy = true
	srv, err := app.Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if srv.Postgres() != nil {
		t.Fatal("an embedded cluster was started although DATABASE_URL is set")
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "postgres")); !os.IsNotExist(err) {
		t.Fatalf("embedded cluster directory exists: %v", err)
	}
	resp, err := http.Get("http://" + cfg.Addr + "/api/v1/setup")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("setup status on the external database: %v %v", err, resp)
	}
	resp.Body.Close()
}
