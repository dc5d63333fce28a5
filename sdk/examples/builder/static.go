package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-dev/berth/sdk"
)

// Static is an example builder for static sites. Detect looks for
// index.html. Build walks the site, streams a log line per file and returns
// the image reference with a digest of the site's content.
//
// To stay self-contained it does not call Docker: a real builder sends the
// build context to the Docker Engine at BuildRequest.DockerHost and returns
// the id of the image it built.
type Static struct {
	sdk.UnimplementedBuilder // no plugin settings: the default ConfigSchema and Configure
}

// appSettings are the per-app build settings.
type appSettings struct {
	// Root is the site's directory inside the source tree.
	Root string `json:"root"`
}

const appSchema = `{
  "type": "object",
  "title": "Static site",
  "properties": {
    "root": {"type": "string", "title": "Site directory", "description": "Directory holding index.html, relative to the repository root.", "default": "."}
  },
  "additionalProperties": false
}`

// Info describes the plugin.
func (s *Static) Info(context.Context, *sdk.InfoRequest) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		ID:           "builder.example",
		Version:      "0.1.0",
		Description:  "Builds static sites that have an index.html (SDK example).",
		Capabilities: []sdk.Capability{sdk.CapBuildArgs},
	}, nil
}

// ConfigSchema declares no plugin settings and the per-app build settings.
func (s *Static) ConfigSchema(context.Context, *sdk.ConfigSchemaRequest) (*sdk.ConfigSchemaResponse, error) {
	return &sdk.ConfigSchemaResponse{Settings: sdk.EmptySchema, App: json.RawMessage(appSchema)}, nil
}

// Detect looks for index.html at the top of the source tree.
func (s *Static) Detect(_ context.Context, req *sdk.DetectRequest) (*sdk.DetectResponse, error) {
	_, err := os.Stat(filepath.Join(req.SourceDir, "index.html"))
	switch {
	case err == nil:
		return &sdk.DetectResponse{Detected: true, Reason: "found index.html"}, nil
	case errors.Is(err, fs.ErrNotExist):
		return &sdk.DetectResponse{Detected: false, Reason: "no index.html"}, nil
	default:
		return nil, fmt.Errorf("detect: %w", err)
	}
}

// Build hashes every file of the site, logging each one, and returns the
// image reference.
func (s *Static) Build(ctx context.Context, req *sdk.BuildRequest) (*sdk.BuildResponse, error) {
	var app appSettings
	if err := sdk.DecodeSettings(req.Settings, &app); err != nil {
		return nil, err
	}
	root := filepath.Join(req.SourceDir, filepath.Clean("/"+app.Root)) // never above SourceDir
	if req.Image == "" {
		return nil, fmt.Errorf("build: empty image name: %w", sdk.ErrInvalidArgument)
	}
	req.Log.Printf("building static site %s into %s", root, req.Image)
	if req.DockerHost != "" {
		req.Log.Printf("Docker Engine: %s (not used by this example)", req.DockerHost)
	}
	args := make([]string, 0, len(req.BuildArgs))
	for k := range req.BuildArgs {
		args = append(args, k)
	}
	sort.Strings(args)
	for _, k := range args {
		req.Log.Printf("build arg %s=%s", k, req.BuildArgs[k])
	}
	if len(req.Secrets) > 0 {
		req.Log.Printf("%d build secret(s) available (values not shown)", len(req.Secrets))
	}

	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir // .git and friends
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build: listing %s: %w", root, err)
	}
	sum := sha256.New()
	for i, p := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		rel, _ := filepath.Rel(root, p)
		n, err := hashFile(sum, rel, p)
		if err != nil {
			return nil, fmt.Errorf("build: %w", err)
		}
		req.Log.Line(sdk.LogStdout, fmt.Sprintf("[%d/%d] adding %s (%d bytes)", i+1, len(files), filepath.ToSlash(rel), n))
	}
	digest := "sha256:" + hex.EncodeToString(sum.Sum(nil))
	req.Log.Printf("built %s (%s)", req.Image, digest)
	return &sdk.BuildResponse{Image: req.Image, Digest: digest}, nil
}

// hashFile adds a file's name and content to sum.
func hashFile(sum io.Writer, name, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fmt.Fprintf(sum, "%s\x00", filepath.ToSlash(name))
	return io.Copy(sum, f)
}
