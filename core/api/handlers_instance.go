package api

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/berth-dev/berth/core/hostaccess"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// InstanceSettingsRequest changes the instance settings; omitted fields keep
// their value, a list given replaces the saved one.
type InstanceSettingsRequest struct {
	// AllowOrganizationCreation lets every signed-in user create organizations.
	AllowOrganizationCreation *bool `json:"allow_organization_creation"`
	// BindMountRoots are host directories under which anyone may bind mount.
	BindMountRoots *[]string `json:"bind_mount_roots"`
	// LocalBackupRoots are host directories under which organization admins
	// may point a backup.local destination.
	LocalBackupRoots *[]string `json:"local_backup_roots"`
	// OutboundAllow lists internal IPs, CIDRs or host names tenants may aim
	// outbound requests at (git hosts, S3 endpoints).
	OutboundAllow *[]string `json:"outbound_allow"`
}

// UpdateUserRequest changes a user's instance-wide flags.
type UpdateUserRequest struct {
	// InstanceAdmin grants or revokes instance administration.
	InstanceAdmin *bool `json:"instance_admin"`
}

// maxListSetting bounds each list of the instance settings.
const maxListSetting = 100

func (s *Server) getInstanceSettings(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	in, err := s.store.InstanceSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(in)
}

func (s *Server) putInstanceSettings(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	var req InstanceSettingsRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	in, err := s.store.InstanceSettings(c.UserContext())
	if err != nil {
		return err
	}
	if req.AllowOrganizationCreation != nil {
		in.AllowOrganizationCreation = *req.AllowOrganizationCreation
	}
	if req.BindMountRoots != nil {
		in.BindMountRoots = *req.BindMountRoots
	}
	if req.LocalBackupRoots != nil {
		in.LocalBackupRoots = *req.LocalBackupRoots
	}
	if req.OutboundAllow != nil {
		in.OutboundAllow = *req.OutboundAllow
	}
	if err := validateInstanceSettings(&in); err != nil {
		return err
	}
	in, err = s.store.UpdateInstanceSettings(c.UserContext(), in, principal(c).User.ID)
	if err != nil {
		return err
	}
	return c.JSON(in)
}

// ValidateInstanceSettings trims and checks instance settings, naming the
// first bad entry (e.g. bind_mount_roots[1]); the dashboard applies it too.
func ValidateInstanceSettings(in *store.InstanceSettings) error { return validateInstanceSettings(in) }

func validateInstanceSettings(in *store.InstanceSettings) error {
	roots := []struct {
		field string
		list  *[]string
	}{{"bind_mount_roots", &in.BindMountRoots}, {"local_backup_roots", &in.LocalBackupRoots}}
	for _, r := range roots {
		if err := cleanList(r.field, r.list, func(v string) string { return hostaccess.ValidRoot(v) }); err != nil {
			return err
		}
	}
	return cleanList("outbound_allow", &in.OutboundAllow, validOutboundEntry)
}

// cleanList trims every entry, drops duplicates and checks each with bad,
// which says what is wrong or "".
func cleanList(field string, list *[]string, bad func(string) string) error {
	if len(*list) > maxListSetting {
		return invalid(field, "at most %d entries", maxListSetting)
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(*list))
	for i, v := range *list {
		v = strings.TrimSpace(v)
		if msg := bad(v); msg != "" {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "%s", msg)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	*list = out
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

func (s *Server) listUsers(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	pg, err := pageParams(c)
	if err != nil {
		return err
	}
	users, more, err := s.store.ListUsers(c.UserContext(), pg)
	if err != nil {
		return err
	}
	return c.JSON(listOf(users, more, func(u store.User) uuid.UUID { return u.ID }))
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	if err := s.requireInstanceAdmin(c); err != nil {
		return err
	}
	id, err := pathID(c, "id", "user")
	if err != nil {
		return err
	}
	var req UpdateUserRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.InstanceAdmin == nil {
		return invalid("instance_admin", "is required (true or false)")
	}
	u, err := s.store.SetInstanceAdmin(c.UserContext(), id, *req.InstanceAdmin)
	if err != nil {
		return notFoundAs(err, "user")
	}
	return c.JSON(u)
}

func (s *Server) getMe(c *fiber.Ctx) error {
	return c.JSON(principal(c).User)
}
