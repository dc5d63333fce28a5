package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"
)

// Description is a plugin's self-description: what its binary prints when
// run with the argument "describe", and what berth's plugin index records.
type Description struct {
	ID               string          `json:"id"`
	Kind             Kind            `json:"kind"`
	Name             string          `json:"name"`
	Version          string          `json:"version"`
	Description      string          `json:"description,omitempty"`
	ProtocolVersions []int           `json:"protocol_versions"`
	Capabilities     []Capability    `json:"capabilities"`
	ConfigSchema     json.RawMessage `json:"config_schema"`
	AppSchema        json.RawMessage `json:"app_schema,omitempty"`
	// SDKVersion is the version of this module the plugin was built with,
	// "(devel)" inside berth's own tree, empty when unknown.
	SDKVersion string `json:"sdk_version,omitempty"`
}

// Describe asks impl for its Info and ConfigSchema and checks them.
func Describe(ctx context.Context, impl Plugin) (*Description, error) {
	if impl == nil {
		return nil, fmt.Errorf("describe: nil plugin: %w", ErrInvalidArgument)
	}
	info, err := impl.Info(ctx, &InfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("describe: Info: %w", err)
	}
	if info == nil {
		return nil, fmt.Errorf("describe: %w", errNilResponse("Info"))
	}
	info = completeInfo(info)
	schema, err := impl.ConfigSchema(ctx, &ConfigSchemaRequest{})
	if err != nil {
		return nil, fmt.Errorf("describe %s: ConfigSchema: %w", info.ID, err)
	}
	if schema == nil {
		return nil, fmt.Errorf("describe %s: %w", info.ID, errNilResponse("ConfigSchema"))
	}
	kind, name, _ := ParseID(info.ID)
	d := &Description{
		ID:               info.ID,
		Kind:             kind,
		Name:             name,
		Version:          info.Version,
		Description:      info.Description,
		ProtocolVersions: slices.Clone(info.ProtocolVersions),
		Capabilities:     append([]Capability{}, info.Capabilities...),
		ConfigSchema:     compactJSON(schema.Settings),
		AppSchema:        compactJSON(schema.App),
		SDKVersion:       sdkVersion(),
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if err := checkKind(d.Kind, impl); err != nil {
		return nil, fmt.Errorf("describe %s: %w", d.ID, err)
	}
	return d, nil
}

// Validate checks that d is complete and consistent: a valid id matching
// Kind and Name, a version, protocol versions, and a settings schema that is
// a JSON object.
func (d *Description) Validate() error {
	kind, name, err := ParseID(d.ID)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	switch {
	case d.Kind != kind || d.Name != name:
		return fmt.Errorf("describe %s: kind %q and name %q do not match the id: %w", d.ID, d.Kind, d.Name, ErrInvalidArgument)
	case d.Version == "":
		return fmt.Errorf("describe %s: empty version: %w", d.ID, ErrInvalidArgument)
	case len(d.ProtocolVersions) == 0:
		return fmt.Errorf("describe %s: no protocol versions: %w", d.ID, ErrInvalidArgument)
	}
	if !isJSONObject(d.ConfigSchema) {
		return fmt.Errorf("describe %s: the settings schema is not a JSON object: %w", d.ID, ErrInvalidArgument)
	}
	if len(d.AppSchema) > 0 && !isJSONObject(d.AppSchema) {
		return fmt.Errorf("describe %s: the app settings schema is not a JSON object: %w", d.ID, ErrInvalidArgument)
	}
	return nil
}

// SupportsProtocol reports whether the plugin speaks protocol version v.
func (d *Description) SupportsProtocol(v int) bool {
	return slices.Contains(d.ProtocolVersions, v)
}

// checkKind reports whether impl implements the interface of kind.
func checkKind(kind Kind, impl Plugin) error {
	var ok bool
	switch kind {
	case KindBuilder:
		_, ok = impl.(Builder)
	case KindGit:
		_, ok = impl.(GitProvider)
	case KindBackup:
		_, ok = impl.(BackupTarget)
	case KindNotifier:
		_, ok = impl.(Notifier)
	}
	if !ok {
		return fmt.Errorf("the id says kind %s but %T does not implement that kind's interface: %w", kind, impl, ErrInvalidArgument)
	}
	return nil
}

func isJSONObject(raw json.RawMessage) bool {
	var v map[string]any
	return json.Unmarshal(raw, &v) == nil && v != nil
}

// compactJSON returns raw without insignificant white space, or raw itself
// when it is not valid JSON (Validate then reports it).
func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

// sdkVersion returns the version of this module in the running binary's
// build information.
func sdkVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	const path = "github.com/berth-dev/berth/sdk"
	version := func(m *debug.Module) string {
		if r := m.Replace; r != nil {
			if r.Version == "" {
				return "(devel)"
			}
			return r.Version
		}
		return m.Version
	}
	if bi.Main.Path == path {
		return version(&bi.Main)
	}
	for _, dep := range bi.Deps {
		if dep.Path == path {
			return version(dep)
		}
	}
	return ""
}

// DescribeBinary runs a plugin binary with the argument "describe" in the
// environment env (nil for an empty one), then decodes and validates what it
// prints. ctx bounds the run.
func DescribeBinary(ctx context.Context, binary string, env []string) (*Description, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, DescribeArg)
	cmd.Env = env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", binary, DescribeArg, err, strings.TrimSpace(stderr.String()))
	}
	var d Description
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		return nil, fmt.Errorf("%s %s: the output is not a plugin description: %w", binary, DescribeArg, err)
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", binary, err)
	}
	return &d, nil
}
