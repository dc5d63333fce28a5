package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
)

// Labels berth puts on the objects it manages.
const (
	// LabelComponent marks objects owned by this package.
	LabelComponent = "dev.berth.component"
	// LabelSpecHash holds the hash of the container spec and static config.
	LabelSpecHash = "dev.berth.spec-hash"

	componentTraefik = "traefik"
	stopTimeout      = 15 // seconds; Traefik drains connections on SIGTERM
)

// containerSpec is everything ContainerCreate needs.
type containerSpec struct {
	// Config is the portable container configuration.
	Config *container.Config
	// Host is the host-dependent configuration: mounts, ports, restart.
	Host *container.HostConfig
	// Networking attaches the container to the proxy network.
	Networking *network.NetworkingConfig
}

// labels returns the labels of every object the manager creates.
func (t *Traefik) labels() map[string]string {
	l := maps.Clone(t.opts.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[LabelComponent] = componentTraefik
	return l
}

// desiredSpec builds the container spec for the given image ID, labelled with
// the hash of the spec, the image ID and the static configuration, so that a
// change to any of them is detected.
func (t *Traefik) desiredSpec(imageID string) (containerSpec, error) {
	o := t.opts
	port := func(p int) nat.Port { return nat.Port(strconv.Itoa(p) + "/tcp") }
	binding := func(ip string, p int) []nat.PortBinding {
		return []nat.PortBinding{{HostIP: ip, HostPort: strconv.Itoa(p)}}
	}
	acme := mount.Mount{Type: mount.TypeBind, Source: o.ACMEDir, Target: ContainerACMEDir}
	if o.ACMEVolume != "" {
		acme = mount.Mount{Type: mount.TypeVolume, Source: o.ACMEVolume, Target: ContainerACMEDir}
	}

	spec := containerSpec{
		Config: &container.Config{
			Image:  o.Image,
			Cmd:    []string{"--configFile=" + ContainerStaticFile},
			Labels: t.labels(),
			ExposedPorts: nat.PortSet{
				port(containerHTTPPort): {}, port(containerHTTPSPort): {}, port(containerAPIPort): {},
			},
		},
		Host: &container.HostConfig{
			NetworkMode: container.NetworkMode(o.Network),
			PortBindings: nat.PortMap{
				port(containerHTTPPort):  binding(o.BindIP, o.HTTPPort),
				port(containerHTTPSPort): binding(o.BindIP, o.HTTPSPort),
				port(containerAPIPort):   binding("127.0.0.1", o.APIPort),
			},
			// The Docker socket is never mounted: berth writes the config.
			Mounts: []mount.Mount{
				{Type: mount.TypeBind, Source: o.staticFile(), Target: ContainerStaticFile, ReadOnly: true},
				{Type: mount.TypeBind, Source: o.DynamicDir, Target: ContainerDynamicDir, ReadOnly: true},
				{Type: mount.TypeBind, Source: o.CertsDir, Target: ContainerCertsDir, ReadOnly: true},
				acme,
			},
			RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
			LogConfig:      container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "20m", "max-file": "5"}},
			ReadonlyRootfs: true,
			CapDrop:        []string{"ALL"},
			CapAdd:         []string{"NET_BIND_SERVICE"},
			SecurityOpt:    []string{"no-new-privileges"},
		},
		Networking: &network.NetworkingConfig{
			EndpointsConfig: map[string]*network.EndpointSettings{o.Network: {}},
		},
	}

	hash, err := specHash(spec, imageID, t.static)
	if err != nil {
		return containerSpec{}, err
	}
	spec.Config.Labels[LabelSpecHash] = hash
	return spec, nil
}

// specHash hashes the spec (before the hash label is added), the image ID and
// the static configuration. JSON encoding sorts map keys, so it is stable.
func specHash(spec containerSpec, imageID string, static []byte) (string, error) {
	data, err := json.Marshal(struct {
		Spec    containerSpec
		ImageID string
		Static  []byte
	}{spec, imageID, static})
	if err != nil {
		return "", fmt.Errorf("hash container spec: %w", err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
