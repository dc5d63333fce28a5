package cnb

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MetadataLabel is the builder image label pack and other platforms write:
// the lifecycle's version and APIs, the run image and the buildpacks.
const MetadataLabel = "io.buildpacks.builder.metadata"

// BuilderMetadata is the part of the io.buildpacks.builder.metadata label
// berth reads.
type BuilderMetadata struct {
	Stack struct {
		RunImage struct {
			Image string `json:"image"`
		} `json:"runImage"`
	} `json:"stack"`
	Images []struct {
		Image string `json:"image"`
	} `json:"images"`
	Buildpacks []struct {
		ID      string `json:"id"`
		Version string `json:"version"`
	} `json:"buildpacks"`
	Lifecycle struct {
		Version string `json:"version"`
		// API is the pre-0.10 form: one platform and buildpack API each.
		API struct {
			Platform string `json:"platform"`
		} `json:"api"`
		APIs struct {
			Platform struct {
				Supported []string `json:"supported"`
			} `json:"platform"`
		} `json:"apis"`
	} `json:"lifecycle"`
}

// ParseMetadata reads a builder image's metadata label.
func ParseMetadata(labels map[string]string) (*BuilderMetadata, error) {
	raw, ok := labels[MetadataLabel]
	if !ok || raw == "" {
		return nil, fmt.Errorf("it has no %s label: it is not a Cloud Native Buildpacks builder image", MetadataLabel)
	}
	var m BuilderMetadata
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("its %s label is not valid JSON: %w", MetadataLabel, err)
	}
	if m.Lifecycle.Version == "" {
		return nil, fmt.Errorf("its %s label names no lifecycle version", MetadataLabel)
	}
	return &m, nil
}

// RunImage is the run image the builder names, or "".
func (m *BuilderMetadata) RunImage() string {
	if len(m.Images) > 0 && m.Images[0].Image != "" {
		return m.Images[0].Image
	}
	return m.Stack.RunImage.Image
}

// PlatformAPIs are the platform APIs the lifecycle supports.
func (m *BuilderMetadata) PlatformAPIs() []string {
	if len(m.Lifecycle.APIs.Platform.Supported) > 0 {
		return m.Lifecycle.APIs.Platform.Supported
	}
	if m.Lifecycle.API.Platform != "" {
		return []string{m.Lifecycle.API.Platform}
	}
	return nil
}

// BuildpackVersions returns the versions of buildpack id in the builder.
func (m *BuilderMetadata) BuildpackVersions(id string) []string {
	var out []string
	for _, b := range m.Buildpacks {
		if b.ID == id {
			out = append(out, b.Version)
		}
	}
	return out
}

// PlatformAPIs are the platform API versions berth drives the creator
// with, oldest first: the flags it passes (-run-image, -cache-dir,
// -launch-cache, -previous-image, -order, -daemon) mean the same in each.
var PlatformAPIs = []string{"0.10", "0.11", "0.12", "0.13", "0.14", "0.15"}

// ChoosePlatformAPI returns the newest platform API both berth and the
// lifecycle support, or an error naming both lists.
func ChoosePlatformAPI(lifecycle []string) (string, error) {
	for _, v := range slices.Backward(PlatformAPIs) {
		if slices.Contains(lifecycle, v) {
			return v, nil
		}
	}
	return "", fmt.Errorf("the builder's lifecycle supports platform APIs %s and berth speaks %s: use a builder with a newer lifecycle",
		strings.Join(lifecycle, ", "), strings.Join(PlatformAPIs, ", "))
}

// engineRule is a known constraint between lifecycle versions and the
// Docker Engine API version a -daemon build needs.
type engineRule struct {
	// from and to bound the lifecycle versions (inclusive); "" is open.
	from, to string
	// minAPI is the oldest Engine API version these lifecycles work with.
	minAPI string
	why    string
}

// engineRules are the known constraints. Lifecycle 0.21.0 to 0.21.7 talk
// to the engine with a Docker client that refuses API versions below 1.44;
// 0.21.8 and later negotiate down to 1.40 (the Moby client's minimum).
var engineRules = []engineRule{
	{from: "0.21.0", to: "0.21.7", minAPI: "1.44", why: "its Docker client needs Docker Engine 25 or newer"},
	{from: "0.21.8", minAPI: "1.40", why: "its Docker client needs Docker Engine 19.03 or newer"},
}

// CheckEngine reports whether a lifecycle of version lifecycle can export
// to a Docker Engine speaking API version engineAPI. The error says what to
// do.
func CheckEngine(lifecycle, engineAPI string) error {
	lv, ok := parseVersion(lifecycle)
	if !ok {
		return fmt.Errorf("the builder's lifecycle version %q is not a version number", lifecycle)
	}
	ev, ok := parseVersion(engineAPI)
	if !ok {
		return fmt.Errorf("the Docker Engine's API version %q is not a version number", engineAPI)
	}
	for _, r := range engineRules {
		if r.from != "" && compareVersions(lv, mustVersion(r.from)) < 0 {
			continue
		}
		if r.to != "" && compareVersions(lv, mustVersion(r.to)) > 0 {
			continue
		}
		if compareVersions(ev, mustVersion(r.minAPI)) < 0 {
			return fmt.Errorf("the builder's lifecycle %s cannot work with this Docker Engine (API %s): %s (API %s); use a builder image with another lifecycle version (0.21.8 or later works with API 1.40) or upgrade the engine",
				lifecycle, engineAPI, r.why, r.minAPI)
		}
	}
	return nil
}

// parseVersion reads "v1.2.3", "1.2" or "1.2.3-rc1" (the pre-release is
// ignored) into numbers.
func parseVersion(s string) ([]int, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	s, _, _ = strings.Cut(s, "-")
	s, _, _ = strings.Cut(s, "+")
	if s == "" {
		return nil, false
	}
	var out []int
	for _, p := range strings.Split(s, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func mustVersion(s string) []int {
	v, ok := parseVersion(s)
	if !ok {
		panic("bad version " + s)
	}
	return v
}

// compareVersions compares numerically; missing parts count as 0.
func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x - y
		}
	}
	return 0
}
