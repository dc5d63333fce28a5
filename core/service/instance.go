package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/problem"
	"github.com/berth-dev/berth/core/store"
	"github.com/berth-dev/berth/core/validate"
	"github.com/google/uuid"
)

// Instance changes the instance settings and who administers the
// instance: instance administrators only.
type Instance struct{ s *Services }

// InstanceSettingsChange changes the instance settings; nil fields keep
// their value, a list given replaces the saved one.
type InstanceSettingsChange struct {
	AllowOrganizationCreation *bool
	BindMountRoots            *[]string
	LocalBackupRoots          *[]string
	OutboundAllow             *[]string
	// DefaultBuilder is the builder the build type auto tries right after
	// the Dockerfile builder: a builder plugin's name (railpack, nixpacks,
	// heroku...), not "auto" nor "dockerfile".
	DefaultBuilder *string
	// MetricsIntervalSeconds is the metrics sampling interval, 5 to 3600.
	MetricsIntervalSeconds *int
	// MetricsRetentionDays is how long metrics are kept, 1 to 90.
	MetricsRetentionDays *int
}

// Bounds of the metrics settings (docs/metrics.md).
const (
	MinMetricsInterval, MaxMetricsInterval           = 5, 3600
	MinMetricsRetentionDays, MaxMetricsRetentionDays = 1, 90
)

// MaxListSetting bounds each list of the instance settings.
const MaxListSetting = 100

// Validate checks every list given, naming the first bad entry
// (bind_mount_roots[1]); entries are checked trimmed.
func (in InstanceSettingsChange) Validate() error {
	if in.DefaultBuilder != nil {
		if err := ValidDefaultBuilder(*in.DefaultBuilder); err != nil {
			return err
		}
	}
	if v := in.MetricsIntervalSeconds; v != nil && (*v < MinMetricsInterval || *v > MaxMetricsInterval) {
		return problem.InvalidField("metrics_interval_seconds", "must be %d to %d seconds", MinMetricsInterval, MaxMetricsInterval)
	}
	if v := in.MetricsRetentionDays; v != nil && (*v < MinMetricsRetentionDays || *v > MaxMetricsRetentionDays) {
		return problem.InvalidField("metrics_retention_days", "must be %d to %d days", MinMetricsRetentionDays, MaxMetricsRetentionDays)
	}
	for _, l := range in.lists() {
		if l.list == nil {
			continue
		}
		if len(*l.list) > MaxListSetting {
			return problem.InvalidField(l.field, "at most %d entries", MaxListSetting)
		}
		for i, v := range *l.list {
			if msg := l.bad(strings.TrimSpace(v)); msg != "" {
				return problem.InvalidField(fmt.Sprintf("%s[%d]", l.field, i), "%s", msg)
			}
		}
	}
	return nil
}

type settingList struct {
	field string
	list  *[]string
	bad   func(string) string
}

func (in InstanceSettingsChange) lists() []settingList {
	return []settingList{
		{"bind_mount_roots", in.BindMountRoots, hostaccess.ValidRoot},
		{"local_backup_roots", in.LocalBackupRoots, hostaccess.ValidRoot},
		{"outbound_allow", in.OutboundAllow, validOutboundEntry},
	}
}

// apply merges the change into saved, entries trimmed and deduplicated.
func (in InstanceSettingsChange) apply(saved *store.InstanceSettings) {
	if in.AllowOrganizationCreation != nil {
		saved.AllowOrganizationCreation = *in.AllowOrganizationCreation
	}
	if in.DefaultBuilder != nil {
		saved.DefaultBuilder = strings.TrimSpace(*in.DefaultBuilder)
	}
	if in.MetricsIntervalSeconds != nil {
		saved.MetricsIntervalSeconds = *in.MetricsIntervalSeconds
	}
	if in.MetricsRetentionDays != nil {
		saved.MetricsRetentionDays = *in.MetricsRetentionDays
	}
	targets := []*[]string{&saved.BindMountRoots, &saved.LocalBackupRoots, &saved.OutboundAllow}
	for i, l := range in.lists() {
		if l.list == nil {
			continue
		}
		seen := map[string]bool{}
		out := make([]string, 0, len(*l.list))
		for _, v := range *l.list {
			if v = strings.TrimSpace(v); !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		*targets[i] = out
	}
}

// ValidDefaultBuilder checks an instance's default zero-config builder: a
// builder plugin's name. "auto" and "dockerfile" are refused: auto asks
// the Dockerfile builder first anyway. A builder that is not installed is
// accepted (it may be installed later); auto skips it meanwhile.
func ValidDefaultBuilder(name string) error {
	name = strings.TrimSpace(name)
	if err := validate.Slug("default_builder", name, 40); err != nil {
		return err
	}
	if name == BuildTypeAuto || name == "dockerfile" {
		return problem.InvalidField("default_builder", "must be a zero-config builder such as railpack, nixpacks, heroku, paketo or static (auto always tries the Dockerfile builder first)")
	}
	return nil
}

var hostNamePattern = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

// validOutboundEntry accepts an IP address, a CIDR or a host name.
func validOutboundEntry(v string) string {
	if _, err := netip.ParseAddr(v); err == nil {
		return ""
	}
	if _, _, err := net.ParseCIDR(v); err == nil {
		return ""
	}
	if len(v) <= 253 && hostNamePattern.MatchString(v) {
		return ""
	}
	return fmt.Sprintf("%q is not an IP address, a CIDR or a host name", v)
}

// UpdateSettings changes the instance settings (instance administrators).
func (is *Instance) UpdateSettings(ctx context.Context, p *store.Principal, in InstanceSettingsChange) (store.InstanceSettings, error) {
	if err := RequireInstanceAdmin(p); err != nil {
		return store.InstanceSettings{}, err
	}
	if err := in.Validate(); err != nil {
		return store.InstanceSettings{}, err
	}
	st := is.s.deps.Store
	saved, err := st.InstanceSettings(ctx)
	if err != nil {
		return saved, err
	}
	in.apply(&saved)
	return st.UpdateInstanceSettings(ctx, saved, p.User.ID)
}

// SetAdmin grants or revokes instance administration of a user (instance
// administrators). Revoking the last one is refused with an error wrapping
// store.ErrLastInstanceAdmin (409).
func (is *Instance) SetAdmin(ctx context.Context, p *store.Principal, user uuid.UUID, admin bool) (store.User, error) {
	if err := RequireInstanceAdmin(p); err != nil {
		return store.User{}, err
	}
	u, err := is.s.deps.Store.SetInstanceAdmin(ctx, user, admin)
	if errors.Is(err, store.ErrNotFound) {
		return u, problem.Missing("user")
	}
	return u, err
}
