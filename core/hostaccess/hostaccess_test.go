package hostaccess

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/berth-dev/berth/core/netguard"
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

// outboundSchema has a URL, a host with a port property, a host without
// one, and markings to ignore.
const outboundSchema = `{"properties":{
	"host": {"type": "string", "x-berth-outbound-host": "port"},
	"port": {"type": "integer"},
	"relay": {"type": "string", "x-berth-outbound-host": true},
	"stray": {"type": "string", "x-berth-outbound-host": "no_such_property"},
	"off": {"type": "string", "x-berth-outbound-host": false},
	"self": {"type": "string", "x-berth-outbound-host": "self"},
	"api": {"type": "string", "x-berth-outbound-url": true},
	"name": {"type": "string"}
}}`

func TestHostProperties(t *testing.T) {
	got := HostProperties([]byte(outboundSchema))
	want := []HostProperty{{Name: "host", Port: "port"}, {Name: "relay"}, {Name: "stray"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HostProperties = %+v, want %+v", got, want)
	}
	for _, bad := range []string{``, `not json`, `{"properties":{"host":{"type":"string"}}}`} {
		if got := HostProperties([]byte(bad)); len(got) != 0 {
			t.Errorf("HostProperties(%q) = %+v", bad, got)
		}
	}
}

func TestOutboundTargets(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		want     []Target
		err      bool
	}{
		{"all set", `{"api":"https://api.example.com","host":" smtp.example.com ","port":587,"relay":"10.0.0.5","stray":"x","name":"n"}`, []Target{
			{Keyword: OutboundURLKeyword, Field: "settings.api", URL: "https://api.example.com"},
			{Keyword: OutboundHostKeyword, Field: "settings.host", Host: "smtp.example.com", Port: 587, PortField: "settings.port"},
			{Keyword: OutboundHostKeyword, Field: "settings.relay", Host: "10.0.0.5"},
			{Keyword: OutboundHostKeyword, Field: "settings.stray", Host: "x"},
		}, false},
		{"unset and wrong types", `{"host":25,"port":"587"}`, []Target{
			{Keyword: OutboundURLKeyword, Field: "settings.api"},
			{Keyword: OutboundHostKeyword, Field: "settings.host", PortField: "settings.port"},
			{Keyword: OutboundHostKeyword, Field: "settings.relay"},
			{Keyword: OutboundHostKeyword, Field: "settings.stray"},
		}, false},
		{"port out of range", `{"host":"h","port":70000}`, []Target{
			{Keyword: OutboundURLKeyword, Field: "settings.api"},
			{Keyword: OutboundHostKeyword, Field: "settings.host", Host: "h", PortField: "settings.port"},
			{Keyword: OutboundHostKeyword, Field: "settings.relay"},
			{Keyword: OutboundHostKeyword, Field: "settings.stray"},
		}, false},
		{"not an object", `[1]`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OutboundTargets([]byte(outboundSchema), []byte(tt.settings), "settings.")
			if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("OutboundTargets = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.err)
			}
		})
	}
}

// guardFor is a netguard.Guard over a fixed host: 127.0.0.1 is loopback,
// smtp.example.com public, rebound.example.com loopback.
func guardFor(allow ...string) *netguard.Guard {
	return netguard.New(netguard.Options{
		Resolver: fakeResolver{"smtp.example.com": "93.184.216.34", "rebound.example.com": "127.0.0.1"},
		Interfaces: func() ([]netguard.Interface, error) {
			return []netguard.Interface{{Name: "lo", Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}}}, nil
		},
		Allow: func(context.Context) ([]string, error) { return allow, nil },
	})
}

type fakeResolver map[string]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return []netip.Addr{netip.MustParseAddr(a)}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func TestCheckOutbound(t *testing.T) {
	schema := []byte(outboundSchema)
	saved := []byte(`{"api":"https://api.example.com","host":"smtp.example.com","port":587}`)
	tests := []struct {
		name     string
		guard    *netguard.Guard
		saved    []byte
		settings string
		changed  []string
		blocked  string // the refused field; "" when allowed
	}{
		{"create with a public host", guardFor(), nil, `{"host":"smtp.example.com","port":587}`, []string{"settings.host"}, ""},
		{"create with a loopback host", guardFor(), nil, `{"host":"127.0.0.1","port":25}`, nil, "settings.host"},
		{"create with localhost:port in the host", guardFor(), nil, `{"host":"localhost:2525"}`, nil, "settings.host"},
		{"create with a loopback host allowed", guardFor("127.0.0.1"), nil, `{"host":"127.0.0.1","port":25}`, []string{"settings.host"}, ""},
		{"create by an instance admin", netguard.Open(), nil, `{"host":"127.0.0.1","relay":"::1"}`, []string{"settings.host", "settings.relay"}, ""},
		{"create with a loopback relay", guardFor(), nil, `{"relay":"[::1]"}`, nil, "settings.relay"},
		{"create with a loopback URL", guardFor(), nil, `{"api":"http://127.0.0.1:8025"}`, nil, "settings.api"},
		{"update leaving addresses", guardFor(), saved, `{"api":"https://api.example.com","host":"smtp.example.com","port":587,"name":"x"}`, nil, ""},
		{"update changing the port", guardFor(), saved, `{"api":"https://api.example.com","host":"smtp.example.com","port":465}`, []string{"settings.host"}, ""},
		{"update moving the host inside", guardFor(), saved, `{"api":"https://api.example.com","host":"rebound.example.com","port":587}`, nil, "settings.host"},
		{"update clearing the URL", guardFor(), saved, `{"host":"smtp.example.com","port":587}`, []string{"settings.api"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, err := CheckOutbound(context.Background(), tt.guard, schema, tt.saved, []byte(tt.settings), "settings.")
			if tt.blocked != "" {
				var be *netguard.BlockedError
				if !errors.As(err, &be) || be.Field != tt.blocked {
					t.Fatalf("CheckOutbound = %v, want %s refused", err, tt.blocked)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(changed, tt.changed) {
				t.Fatalf("CheckOutbound = %v, %v; want %v", changed, err, tt.changed)
			}
		})
	}
}

func TestRecheckOutbound(t *testing.T) {
	schema := []byte(outboundSchema)
	for settings, blocked := range map[string]string{
		`{"host":"smtp.example.com","port":587,"api":"https://smtp.example.com"}`: "",
		`{"host":"127.0.0.1","port":25}`:                                          "", // literal: judged when saved
		`{"host":"rebound.example.com","port":587}`:                               "settings.host",
		`{"relay":"rebound.example.com:25"}`:                                      "settings.relay",
		`{"api":"https://rebound.example.com/"}`:                                  "settings.api",
	} {
		err := RecheckOutbound(context.Background(), guardFor(), schema, []byte(settings), "settings.")
		var be *netguard.BlockedError
		if blocked == "" && err != nil || blocked != "" && (!errors.As(err, &be) || be.Field != blocked) {
			t.Errorf("RecheckOutbound(%s) = %v, want refused %q", settings, err, blocked)
		}
	}
	if err := RecheckOutbound(context.Background(), guardFor("rebound.example.com"), schema, []byte(`{"host":"rebound.example.com"}`), "settings."); err != nil {
		t.Errorf("RecheckOutbound(allowed name) = %v", err)
	}
}
