// Package heroku implements berth's Heroku buildpacks builder (id
// builder.heroku, build_type "heroku"): the Cloud Native Buildpacks
// lifecycle of a Heroku builder image (default heroku/builder:24, whose
// run image is heroku/heroku:24 unless the app overrides it) builds the app
// without a Dockerfile. Heroku's conventions apply: a Procfile's processes
// become the image's processes, "web" the default one; the language is
// detected from package.json, requirements.txt, Gemfile and the like.
//
// The engine is package cnb, shared with the Paketo builder.
package heroku

import "github.com/berth-dev/berth/builders/internal/cnb"

// ID is the plugin id.
const ID = "builder.heroku"

// DefaultBuilder is the builder image apps use unless told otherwise.
const DefaultBuilder = "heroku/builder:24"

// New returns the plugin.
func New() *cnb.Builder {
	return cnb.NewBuilder(cnb.Flavor{
		ID:             ID,
		Version:        "1.0.0",
		Name:           "Heroku buildpacks",
		Description:    "Builds apps without a Dockerfile with Heroku's Cloud Native Buildpacks (builder heroku/builder:24 by default): Node.js, Python, Go, Ruby, Java, PHP, Scala, .NET; Procfile processes.",
		DefaultBuilder: DefaultBuilder,
		Trusted:        []string{"heroku/builder:*", "heroku/builder-classic:*"},
		Markers:        cnb.CommonMarkers,
	})
}
