package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/sdk"
)

// BuilderSuite configures TestBuilder.
type BuilderSuite struct {
	BaseSuite
	// Source writes a source tree the builder detects and can build into
	// dir. Required.
	Source func(t testing.TB, dir string)
	// AppSettings are build settings passed in BuildRequest.Settings.
	AppSettings json.RawMessage
	// Image is the reference to build; default "plugintest/conformance:latest".
	Image string
	// DockerHost is passed in BuildRequest.DockerHost.
	DockerHost string
	// CheckImage, when set, is called with the response of the build.
	CheckImage func(t testing.TB, resp *sdk.BuildResponse)
}

// TestBuilder runs the conformance suite for builders against b: the base
// checks, Detect on a matching and an empty tree, a Build that streams logs
// and returns the image, and cancellation.
func TestBuilder(t *testing.T, b sdk.Builder, s BuilderSuite) {
	t.Helper()
	if s.Source == nil {
		t.Fatal("plugintest: BuilderSuite.Source is required")
	}
	if s.Image == "" {
		s.Image = "plugintest/conformance:latest"
	}
	testBase(t, b, sdk.KindBuilder, s.BaseSuite)

	source := t.TempDir()
	s.Source(t, source)
	request := func(log sdk.LogFunc) *sdk.BuildRequest {
		return &sdk.BuildRequest{
			SourceDir: source, Settings: s.AppSettings, Image: s.Image, DockerHost: s.DockerHost,
			Env: map[string]string{"PLUGINTEST": "1"}, BuildArgs: map[string]string{"PLUGINTEST_ARG": "1"},
			Secrets: map[string]string{"PLUGINTEST_SECRET": "s3cr3t-never-logged"}, Log: log,
		}
	}

	t.Run("detect/source", func(t *testing.T) {
		r, err := b.Detect(testContext(t), &sdk.DetectRequest{SourceDir: source})
		if err != nil {
			t.Fatalf("Detect: %v", err)
		}
		if !r.Detected {
			t.Errorf("Detect(source) = false (%s), want true", r.Reason)
		}
	})
	t.Run("detect/empty", func(t *testing.T) {
		r, err := b.Detect(testContext(t), &sdk.DetectRequest{SourceDir: t.TempDir()})
		if err != nil {
			t.Fatalf("Detect(empty dir): %v", err)
		}
		if r.Detected {
			t.Errorf("Detect(empty dir) = true (%s), want false", r.Reason)
		}
	})
	t.Run("build", func(t *testing.T) {
		var mu sync.Mutex
		var lines []sdk.LogLine
		r, err := b.Build(testContext(t), request(func(l sdk.LogLine) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, l)
		}))
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		if r.Image != s.Image && !strings.HasPrefix(r.Image, s.Image+"@") {
			t.Errorf("Build returned image %q, want %q", r.Image, s.Image)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(lines) == 0 {
			t.Errorf("Build streamed no log line")
		}
		for _, l := range lines {
			if strings.Contains(l.Text, "s3cr3t-never-logged") {
				t.Errorf("Build logged a build secret: %q", l.Text)
			}
		}
		if s.CheckImage != nil {
			s.CheckImage(t, r)
		}
	})
	t.Run("build/cancelled_before", func(t *testing.T) {
		_, err := b.Build(cancelledContext(), request(nil))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Build(cancelled ctx) = %v, want context.Canceled", err)
		}
	})
	t.Run("build/cancelled_during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var once sync.Once
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := b.Build(ctx, request(func(sdk.LogLine) { once.Do(cancel) }))
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Build cancelled after its first log line = %v, want nil or context.Canceled", err)
			}
		case <-time.After(callTimeout):
			t.Fatalf("Build did not return within %s of being cancelled", time.Since(start))
		}
	})
}
