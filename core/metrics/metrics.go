// Package metrics samples the figures berth shows and keeps: the host
// figures of the server berth runs on (from /proc and statfs) and the
// per-workload figures of applications and databases (from the Docker
// Engine), one Round every interval. The Sampler stores each round
// (core/store), keeps the latest for the Prometheus export and hands it to
// the OnRound callbacks (alerts).
package metrics

import (
	"time"

	"github.com/google/uuid"
)

// Kinds of target.
const (
	// KindServer is a Swarm node's host figures.
	KindServer = "server"
	// KindApplication is an application's containers (its candidate
	// service included).
	KindApplication = "application"
	// KindDatabase is a database's container.
	KindDatabase = "database"
)

// Round is one sampling pass: every target measured at At.
type Round struct {
	At        time.Time
	Servers   []ServerSample
	Workloads []WorkloadSample
}

// ServerSample is a server's host figures.
type ServerSample struct {
	NodeID, Name string
	// CPUPercent is 0–100 of the whole host.
	CPUPercent                  float64
	MemUsedBytes, MemTotalBytes uint64
	Load1, Load5, Load15        float64
	// NetRxBps and NetTxBps are bytes/s over the real interfaces (not
	// loopback, veth or Docker bridges).
	NetRxBps, NetTxBps float64
	// Disks has one entry per real mount, deduplicated by device.
	Disks []DiskSample
}

// DiskSample is one mount's use.
type DiskSample struct {
	Mount                 string
	UsedBytes, TotalBytes uint64
}

// WorkloadSample is an application's or a database's figures, summed over
// its running containers.
type WorkloadSample struct {
	// Kind is KindApplication or KindDatabase.
	Kind string
	ID   uuid.UUID
	// Tasks is the number of running containers measured.
	Tasks int
	// CPUPercent follows docker stats: 100 = one core, summed over tasks.
	CPUPercent float64
	// MemUsedBytes is usage minus the inactive page cache, as docker stats
	// shows it; MemLimitBytes is the tasks' limits summed (the host's
	// memory for a task without a limit).
	MemUsedBytes, MemLimitBytes                     uint64
	NetRxBps, NetTxBps, BlockReadBps, BlockWriteBps float64
	// Restarts counts the service's tasks that failed (exit != 0) or were
	// rejected in the last hour.
	Restarts int
}
