package cnb

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/sdk"
)

// Marker is a file at the repository root that a builder's buildpacks
// recognise.
type Marker struct {
	// File is the file's name at the repository root.
	File string
	// What is what the file says the app is, for the reason ("Node.js").
	What string
}

// Detect is the plugins' cheap, offline detection: the first of markers
// found at the root of dir (a regular file, or a link to one inside dir)
// detects the app. It never runs the builder image: the buildpacks' own
// detection runs at build time, and a builder whose buildpacks recognise
// none of the app fails the build with the lifecycle's message.
func Detect(dir string, markers []Marker) (*sdk.DetectResponse, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	for _, m := range markers {
		p, err := filepath.EvalSymlinks(filepath.Join(root, m.File))
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, p); err != nil || !filepath.IsLocal(rel) {
			continue
		}
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return &sdk.DetectResponse{Detected: true, Reason: fmt.Sprintf("%s found (%s)", m.File, m.What)}, nil
		}
	}
	return &sdk.DetectResponse{Reason: "no file a buildpack recognises (package.json, requirements.txt, go.mod, Gemfile, pom.xml, composer.json, Procfile, ...) at the repository root"}, nil
}

// CommonMarkers are the files the Heroku and Paketo builders' language
// buildpacks detect, in the order they are looked for.
var CommonMarkers = []Marker{
	{"package.json", "Node.js"},
	{"requirements.txt", "Python"},
	{"pyproject.toml", "Python"},
	{"Pipfile", "Python"},
	{"setup.py", "Python"},
	{"go.mod", "Go"},
	{"Gemfile", "Ruby"},
	{"pom.xml", "Java, Maven"},
	{"build.gradle", "Java, Gradle"},
	{"build.gradle.kts", "Java, Gradle"},
	{"composer.json", "PHP"},
	{"project.toml", "a buildpacks project descriptor"},
	{"Procfile", "processes to run"},
}
