package metrics

import (
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// Host reads the figures of the host berth runs on from /proc and statfs.
// Rates (CPU, network) are deltas since the previous Read; the first Read
// reports them as zero.
type Host struct {
	fs procfs.FS

	prevAt              time.Time
	prevBusy, prevTotal float64
	prevRx, prevTx      uint64
	havePrev            bool
	mountInfo           func() ([]*procfs.MountInfo, error)
}

// NewHost reads the host through the proc file system mounted at procPath
// ("/proc" on the host).
func NewHost(procPath string) (*Host, error) {
	fs, err := procfs.NewFS(procPath)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", procPath, err)
	}
	return &Host{fs: fs, mountInfo: fs.GetMounts}, nil
}

// Read measures the host now. NodeID and Name are left to the caller.
func (h *Host) Read(now time.Time) (ServerSample, error) {
	var s ServerSample
	st, err := h.fs.Stat()
	if err != nil {
		return s, fmt.Errorf("read /proc/stat: %w", err)
	}
	busy, total := cpuTimes(st.CPUTotal)
	mem, err := h.fs.Meminfo()
	if err != nil {
		return s, fmt.Errorf("read /proc/meminfo: %w", err)
	}
	if mem.MemTotalBytes != nil && mem.MemAvailableBytes != nil {
		s.MemTotalBytes = *mem.MemTotalBytes
		s.MemUsedBytes = *mem.MemTotalBytes - min(*mem.MemAvailableBytes, *mem.MemTotalBytes)
	}
	load, err := h.fs.LoadAvg()
	if err != nil {
		return s, fmt.Errorf("read /proc/loadavg: %w", err)
	}
	s.Load1, s.Load5, s.Load15 = load.Load1, load.Load5, load.Load15
	dev, err := h.fs.NetDev()
	if err != nil {
		return s, fmt.Errorf("read /proc/net/dev: %w", err)
	}
	var rx, tx uint64
	for name, l := range dev {
		if RealInterface(name) {
			rx += l.RxBytes
			tx += l.TxBytes
		}
	}
	if h.havePrev {
		if dt := total - h.prevTotal; dt > 0 {
			s.CPUPercent = clampPercent((busy - h.prevBusy) / dt * 100)
		}
		if secs := now.Sub(h.prevAt).Seconds(); secs > 0 {
			s.NetRxBps = counterRate(h.prevRx, rx, secs)
			s.NetTxBps = counterRate(h.prevTx, tx, secs)
		}
	}
	h.prevAt, h.prevBusy, h.prevTotal, h.prevRx, h.prevTx, h.havePrev = now, busy, total, rx, tx, true
	if s.Disks, err = h.disks(); err != nil {
		return s, err
	}
	return s, nil
}

// cpuTimes returns the busy and total CPU seconds of a /proc/stat line
// (idle and iowait are not busy; guest time is already in user).
func cpuTimes(c procfs.CPUStat) (busy, total float64) {
	idle := c.Idle + c.Iowait
	busy = c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ + c.Steal
	return busy, busy + idle
}

// RealInterface tells whether a network interface carries the host's own
// traffic: not loopback, not a container's veth end, not a Docker or
// overlay bridge (whose traffic is also counted on the real interface).
func RealInterface(name string) bool {
	if name == "lo" {
		return false
	}
	for _, p := range []string{"veth", "docker", "br-", "vx-", "vxlan", "virbr", "cni", "flannel", "cali", "tunl", "ifb", "dummy", "kube"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	return true
}

// disks lists the real mounts (block devices), one per device: the
// shortest mount point wins (/ over /var/lib/docker on the same disk).
func (h *Host) disks() ([]DiskSample, error) {
	mounts, err := h.mountInfo()
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	byDev := map[string]string{}
	for _, m := range mounts {
		if !strings.HasPrefix(m.Source, "/dev/") || m.FSType == "squashfs" || m.FSType == "iso9660" {
			continue
		}
		if cur, ok := byDev[m.MajorMinorVer]; !ok || len(m.MountPoint) < len(cur) {
			byDev[m.MajorMinorVer] = m.MountPoint
		}
	}
	out := make([]DiskSample, 0, len(byDev))
	for _, mount := range byDev {
		var fs syscall.Statfs_t
		if err := syscall.Statfs(mount, &fs); err != nil {
			continue // unmounted meanwhile, or not ours to read
		}
		bs := uint64(fs.Bsize)
		total := fs.Blocks * bs
		out = append(out, DiskSample{Mount: mount, TotalBytes: total, UsedBytes: total - fs.Bfree*bs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Mount < out[j].Mount })
	return out, nil
}

// counterRate is the per-second rate of a counter; a counter that went
// back (reset, interface gone) gives zero.
func counterRate(prev, cur uint64, secs float64) float64 {
	if cur < prev || secs <= 0 {
		return 0
	}
	return float64(cur-prev) / secs
}

func clampPercent(v float64) float64 {
	return max(0, min(100, v))
}
