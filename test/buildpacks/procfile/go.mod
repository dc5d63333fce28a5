module github.com/berth-dev/berth/test/buildpacks/procfile

go 1.26.0

require github.com/paketo-buildpacks/packit/v2 v2.16.0

require (
	github.com/BurntSushi/toml v1.4.0 // indirect
	github.com/Masterminds/semver/v3 v3.2.1 // indirect
	github.com/pelletier/go-toml v1.9.5 // indirect
)
