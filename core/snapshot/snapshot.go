// Package snapshot defines what a release is: a snapshot of the image and
// every configuration input one deployment's release ran with (resolved
// environment, command, replicas, resources, health check, files, mounts,
// published ports, placement, labels, restart policy), recorded sealed with
// the deployment when its release step starts. A rollback releases its
// target's snapshot instead of the application's current settings, so a bad
// variable change can be rolled back; Diff tells what differs between two
// releases, never showing a secret value.
//
// Where data lives is not part of a release: a snapshot keeps the volume
// mounts as the user declared them (their sources), and the release maps
// them to the application's current Docker volumes (core/store
// app_volumes), so a rollback never mounts a volume a restore replaced.
package snapshot

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/store"
)

// version is the encoding of snapshots this berth writes.
const version = 1

// Snapshot is what one release ran with.
type Snapshot struct {
	// Version is the encoding's version.
	Version int `json:"version"`
	// Image is the image the release ran.
	Image string `json:"image"`
	// Env is the resolved environment: every variable layer, references
	// resolved, as the pipeline handed it to the containers.
	Env map[string]string `json:"env"`
	// SecretKeys are the keys of Env whose values are secret (never shown
	// by Diff), sorted.
	SecretKeys []string `json:"secret_keys"`
	// Files are the files mounted into the containers, with their content.
	Files []File `json:"files"`
	// Mounts are the mounts as the application declared them: a named
	// volume by its source, not the Docker volume it maps to.
	Mounts []store.Mount `json:"mounts"`
	Settings
}

// Settings are the release settings of an application that a snapshot
// keeps besides its image, environment, files and mounts. Diff compares
// them field by field by their JSON names (nested objects as
// "resources.memory_limit_mb"), so a new setting needs no diff code: add
// a field here, a line in Of and a line in Apply.
type Settings struct {
	Port      int       `json:"port"`
	Replicas  int       `json:"replicas"`
	Command   []string  `json:"command"`
	Resources Resources `json:"resources"`
	// HealthCheck overrides the image's health check; nil keeps it.
	HealthCheck   *store.HealthCheck `json:"health_check"`
	Ports         []store.Port       `json:"ports"`
	Placement     []string           `json:"placement"`
	Labels        map[string]string  `json:"labels"`
	RestartPolicy string             `json:"restart_policy"`
	// ReleaseSettings say how the release took over: readiness, soak,
	// stop grace (its fields are compared as "readiness.path",
	// "soak_seconds", ...).
	store.ReleaseSettings
}

// Resources are a release's CPU and memory limits and reservations.
type Resources struct {
	CPULimit            float64 `json:"cpu_limit"`
	MemoryLimitMB       int     `json:"memory_limit_mb"`
	CPUReservation      float64 `json:"cpu_reservation"`
	MemoryReservationMB int     `json:"memory_reservation_mb"`
}

// File is a file mounted into a release's containers.
type File struct {
	Target  string `json:"target"`
	Content string `json:"content"`
	Mode    int    `json:"mode"`
}

// Of is the snapshot of releasing image with env and a's settings. Every
// variable value is a secret in berth (sealed at rest, masked in logs,
// hidden from viewers), so every key of env is listed as secret.
func Of(a store.Application, image string, env map[string]string) Snapshot {
	s := Snapshot{Version: version, Image: image, Env: orEmptyMap(maps.Clone(env)),
		SecretKeys: slices.Sorted(maps.Keys(env)), Mounts: orEmpty(slices.Clone(a.Mounts)), Files: []File{},
		Settings: Settings{
			Port:     a.Port,
			Replicas: a.Replicas,
			Command:  orEmpty(slices.Clone(a.Command)),
			Resources: Resources{CPULimit: a.CPULimit, MemoryLimitMB: a.MemoryLimitMB,
				CPUReservation: a.CPUReservation, MemoryReservationMB: a.MemoryReservationMB},
			HealthCheck:     a.HealthCheck,
			Ports:           orEmpty(slices.Clone(a.Ports)),
			Placement:       orEmpty(slices.Clone(a.Placement)),
			Labels:          orEmptyMap(maps.Clone(a.Labels)),
			RestartPolicy:   a.RestartPolicy,
			ReleaseSettings: a.ReleaseSettings,
		}}
	if s.SecretKeys == nil {
		s.SecretKeys = []string{}
	}
	for _, f := range a.Files {
		s.Files = append(s.Files, File{Target: f.Target, Content: f.Content, Mode: f.Mode})
	}
	return s
}

// Apply returns a with the snapshot's release settings, files and mounts
// in place of its own; identity, volume mapping (a.Volumes) and everything
// that is not part of a release stay a's.
func (s Snapshot) Apply(a store.Application) store.Application {
	a.Port = s.Port
	a.Replicas = s.Replicas
	a.Command = slices.Clone(s.Command)
	a.CPULimit, a.MemoryLimitMB = s.Resources.CPULimit, s.Resources.MemoryLimitMB
	a.CPUReservation, a.MemoryReservationMB = s.Resources.CPUReservation, s.Resources.MemoryReservationMB
	a.HealthCheck = s.HealthCheck
	a.Ports = slices.Clone(s.Ports)
	a.Placement = slices.Clone(s.Placement)
	a.Labels = maps.Clone(s.Labels)
	a.RestartPolicy = s.RestartPolicy
	a.ReleaseSettings = s.ReleaseSettings
	a.Mounts = slices.Clone(s.Mounts)
	a.Files = make([]store.File, len(s.Files))
	for i, f := range s.Files {
		a.Files[i] = store.File{Target: f.Target, Content: f.Content, Mode: f.Mode, Size: len(f.Content)}
	}
	return a
}

// secret reports whether the value of env key k is secret.
func (s Snapshot) secret(k string) bool {
	i := sort.SearchStrings(s.SecretKeys, k)
	return i < len(s.SecretKeys) && s.SecretKeys[i] == k
}

// Recorder stores deployments' sealed snapshots (*store.Store).
type Recorder interface {
	SetDeploymentSnapshot(ctx context.Context, id uuid.UUID, snapshot []byte) error
}

// Reader reads deployments' snapshots (*store.Store).
type Reader interface {
	DeploymentSnapshot(ctx context.Context, id uuid.UUID) ([]byte, bool, error)
}

// Save records s as deployment id's snapshot.
func Save(ctx context.Context, st Recorder, id uuid.UUID, s Snapshot) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("release: encode snapshot: %w", err)
	}
	return st.SetDeploymentSnapshot(ctx, id, data)
}

// Load returns deployment id's snapshot; ok is false when it recorded
// none (made before berth recorded snapshots, or it never reached its
// release step). A missing deployment is store.ErrNotFound.
func Load(ctx context.Context, st Reader, id uuid.UUID) (s Snapshot, ok bool, err error) {
	data, ok, err := st.DeploymentSnapshot(ctx, id)
	if err != nil || !ok {
		return s, false, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, false, fmt.Errorf("release: snapshot of deployment %s: %w", id, err)
	}
	if s.Version > version {
		return s, false, fmt.Errorf("release: snapshot of deployment %s has version %d, newer than this berth's %d", id, s.Version, version)
	}
	slices.Sort(s.SecretKeys)
	return s, true, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
