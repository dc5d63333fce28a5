package hostaccess

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-dev/berth/core/store"
	"github.com/google/uuid"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "shared")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	policy := Policy{
		BindMountRoots:     []string{root},
		HostDirectoryRoots: []string{"/srv/backups"},
		ReservedPorts:      Reserved(map[string]int{"Traefik HTTP": 80, "the berth API": 7080}),
	}
	tenant, admin := Actor{}, Actor{InstanceAdmin: true}
	tests := []struct {
		name  string
		actor Actor
		uses  []Use
		field string // "" when allowed
	}{
		{"bind mount of / by a tenant", tenant, []Use{{Field: "mounts[0].source", Power: BindMount, Path: "/"}}, "mounts[0].source"},
		{"bind mount under a root", tenant, []Use{{Field: "mounts[0].source", Power: BindMount, Path: root + "/data"}}, ""},
		{"bind mount of the root itself", tenant, []Use{{Field: "mounts[0].source", Power: BindMount, Path: root}}, ""},
		{"bind mount through a symlink out of the root", tenant, []Use{{Field: "mounts[1].source", Power: BindMount, Path: root + "/escape"}}, "mounts[1].source"},
		{"bind mount of a sibling with the root as prefix", tenant, []Use{{Field: "mounts[0].source", Power: BindMount, Path: root + "2"}}, "mounts[0].source"},
		{"bind mount with dot-dot", tenant, []Use{{Field: "mounts[0].source", Power: BindMount, Path: root + "/../x"}}, "mounts[0].source"},
		{"bind mount of / by an instance admin", admin, []Use{{Field: "mounts[0].source", Power: BindMount, Path: "/"}}, ""},
		{"low port", tenant, []Use{{Field: "ports[0].published", Power: HostPort, Port: 22}}, "ports[0].published"},
		{"reserved high port", tenant, []Use{{Field: "external_port", Power: HostPort, Port: 7080}}, "external_port"},
		{"ordinary high port", tenant, []Use{{Field: "ports[0].published", Power: HostPort, Port: 15432}}, ""},
		{"low port by an instance admin", admin, []Use{{Field: "ports[0].published", Power: HostPort, Port: 80}}, ""},
		{"placement", tenant, []Use{{Field: "placement[0]", Power: Placement}}, "placement[0]"},
		{"local repository", tenant, []Use{{Field: "git_repository", Power: LocalRepository}}, "git_repository"},
		{"host directory outside roots", tenant, []Use{{Field: "settings.directory", Power: HostDirectory, Path: "/var/lib/berth"}}, "settings.directory"},
		{"host directory under a root", tenant, []Use{{Field: "settings.directory", Power: HostDirectory, Path: "/srv/backups/acme"}}, ""},
		{"plugin settings", tenant, []Use{{Field: "settings", Power: PluginSettings}}, "settings"},
		{"privileged", tenant, []Use{{Field: "privileged", Power: Privileged}}, "privileged"},
		{"organization creation", tenant, []Use{{Field: "name", Power: CreateOrganization}}, "name"},
		{"second use refused", tenant, []Use{{Field: "ports[0].published", Power: HostPort, Port: 9000}, {Field: "ports[1].published", Power: HostPort, Port: 443}}, "ports[1].published"},
		{"nothing asked", tenant, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := policy.Check(tt.actor, tt.uses)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var fe *ForbiddenError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Message == "" {
				t.Fatalf("got %v, want a ForbiddenError on %s", err, tt.field)
			}
		})
	}
}

func TestOrganizationCreationSetting(t *testing.T) {
	use := []Use{{Field: "name", Power: CreateOrganization}}
	if err := (Policy{AllowOrganizationCreation: true}).Check(Actor{}, use); err != nil {
		t.Fatalf("allowed by the setting, refused: %v", err)
	}
}

func TestUses(t *testing.T) {
	spec := store.ApplicationSpec{SourceType: "git", GitRepository: "file:///srv/repo.git"}
	spec.Mounts = []store.Mount{{Type: "volume", Source: "data", Target: "/data"}, {Type: "bind", Source: "/etc", Target: "/x"}}
	spec.Ports = []store.Port{{Target: 80, Published: 8080, Mode: "host"}}
	spec.Placement = []string{"node.hostname==a"}
	got := ApplicationUses(spec)
	want := []Use{
		{Field: "git_repository", Power: LocalRepository, Path: "file:///srv/repo.git"},
		{Field: "mounts[0].source", Power: Volume, Path: "data"},
		{Field: "mounts[1].source", Power: BindMount, Path: "/etc"},
		{Field: "ports[0].published", Power: HostPort, Port: 8080},
		{Field: "placement[0]", Power: Placement, Detail: "node.hostname==a"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("use %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if u := DatabaseUses(store.DatabaseSpec{ExternalPort: 5432}); len(u) != 1 || u[0].Field != "external_port" {
		t.Errorf("database uses = %+v", u)
	}
	schema := []byte(`{"properties":{"directory":{"type":"string","x-berth-host-path":true},"name":{"type":"string"}}}`)
	su, err := SettingsUses(schema, []byte(`{"directory":"/","name":"x"}`), "settings.")
	if err != nil || len(su) != 1 || su[0].Field != "settings.directory" || su[0].Path != "/" || su[0].Power != HostDirectory {
		t.Errorf("settings uses = %+v, %v", su, err)
	}
}

// fixedSource has fixed settings; the volume "theirs" belongs to another
// organization, "ours" to orgA.
type fixedSource store.InstanceSettings

var orgA = uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")

func (f fixedSource) InstanceSettings(context.Context) (store.InstanceSettings, error) {
	return store.InstanceSettings(f), nil
}

func (fixedSource) VolumeOrganizations(_ context.Context, names []string) (map[string][]uuid.UUID, error) {
	all := map[string][]uuid.UUID{"theirs": {uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")}, "ours": {orgA}}
	out := map[string][]uuid.UUID{}
	for _, n := range names {
		if o, ok := all[n]; ok {
			out[n] = o
		}
	}
	return out, nil
}

func TestGuardCheckChange(t *testing.T) {
	g := NewGuard(fixedSource{BindMountRoots: []string{"/srv/shared"}}, map[string]int{"the berth API": 7080})
	tenant := &store.Principal{}
	admin := &store.Principal{User: store.User{InstanceAdmin: true}}
	bindRoot := Use{Field: "mounts[0].source", Power: BindMount, Path: "/"}
	tests := []struct {
		name          string
		p             *store.Principal
		before, after []Use
		field         string
	}{
		{"new bind mount of / by a tenant", tenant, nil, []Use{bindRoot}, "mounts[0].source"},
		{"kept bind mount of / (moved in the list)", tenant, []Use{bindRoot}, []Use{{Field: "mounts[1].source", Power: BindMount, Path: "/"}}, ""},
		{"changed bind mount", tenant, []Use{bindRoot}, []Use{{Field: "mounts[0].source", Power: BindMount, Path: "/etc"}}, "mounts[0].source"},
		{"reserved port by a webhook", nil, nil, []Use{{Field: "ports[0].published", Power: HostPort, Port: 7080}}, "ports[0].published"},
		{"changed placement", tenant, []Use{{Field: "placement[0]", Power: Placement, Detail: "a"}}, []Use{{Field: "placement[0]", Power: Placement, Detail: "b"}}, "placement[0]"},
		{"bind mount under the allowed root", tenant, nil, []Use{{Field: "mounts[0].source", Power: BindMount, Path: "/srv/shared/x"}}, ""},
		{"instance admin", admin, nil, []Use{bindRoot}, ""},
		{"another organization's volume", tenant, nil, []Use{{Field: "mounts[0].source", Power: Volume, Path: "theirs"}}, "mounts[0].source"},
		{"the organization's own volume", tenant, nil, []Use{{Field: "mounts[0].source", Power: Volume, Path: "ours"}}, ""},
		{"a new volume", tenant, nil, []Use{{Field: "mounts[0].source", Power: Volume, Path: "fresh"}}, ""},
		{"a shared volume kept", tenant, []Use{{Field: "mounts[0].source", Power: Volume, Path: "theirs"}}, []Use{{Field: "mounts[0].source", Power: Volume, Path: "theirs"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.CheckChange(context.Background(), tt.p, orgA, tt.before, tt.after)
			var fe *ForbiddenError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Fatalf("got %v, want a ForbiddenError on %s", err, tt.field)
			}
		})
	}
}
