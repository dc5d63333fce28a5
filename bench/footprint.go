package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// memory is one process's (or a group's) resident memory in bytes.
type memory struct {
	rss, pss, hwm int64
	// anon is RssAnon (heap, stacks), file RssFile (mapped executable
	// and libraries: clean pages of the page cache).
	anon, file int64
}

// procMemory reads VmRSS and VmHWM from /proc/<pid>/status and Pss from
// /proc/<pid>/smaps_rollup.
func procMemory(pid int) (memory, error) {
	var m memory
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, fmt.Errorf("memory of %d: %w", pid, err)
	}
	m.rss, m.hwm = kbField(status, "VmRSS:"), kbField(status, "VmHWM:")
	m.anon, m.file = kbField(status, "RssAnon:"), kbField(status, "RssFile:")
	if rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid)); err == nil {
		m.pss = kbField(rollup, "Pss:")
	}
	return m, nil
}

// kbField returns the value of a "Name:   123 kB" line in bytes.
func kbField(data []byte, name string) int64 {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == name {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// postgresMemory sums the memory of the embedded PostgreSQL: the postmaster
// named in postmaster.pid and its children. PSS counts shared memory once
// across them; the RSS sum counts it in every process.
func postgresMemory(dataDir string) (memory, int, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, "postgres", "data", "postmaster.pid"))
	if err != nil {
		return memory{}, 0, fmt.Errorf("postgres pid: %w", err)
	}
	master, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil {
		return memory{}, 0, fmt.Errorf("postgres pid: %w", err)
	}
	pids := append([]int{master}, children(master)...)
	var sum memory
	for _, pid := range pids {
		m, err := procMemory(pid)
		if err != nil {
			continue // a backend that just ended
		}
		sum.rss += m.rss
		sum.pss += m.pss
	}
	return sum, len(pids), nil
}

// children lists the direct children of pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		f := strings.Fields(string(rest))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

// containerMemory reads the memory of a container's main process.
func containerMemory(name string) (memory, error) {
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", name).Output()
	if err != nil {
		return memory{}, fmt.Errorf("inspect %s: %w", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid == 0 {
		return memory{}, fmt.Errorf("inspect %s: no pid in %q", name, out)
	}
	return procMemory(pid)
}

// footprint prints the memory of berth, its PostgreSQL and Traefik.
func (b *bench) footprint(when string, berthGoal int64) error {
	m, err := procMemory(b.in.PID())
	if err != nil {
		return err
	}
	goal := "-"
	if berthGoal > 0 {
		goal = "<= " + mib(berthGoal)
	}
	b.r.row("berth server RSS "+when, mib(m.rss), goal, berthGoal == 0 || m.rss <= berthGoal)
	b.r.row("berth server peak RSS (VmHWM) "+when, mib(m.hwm), "-", true)
	b.r.row("berth server RSS split "+when, mib(m.anon)+" anonymous + "+mib(m.file)+" file", "-", true)
	pg, n, err := postgresMemory(b.in.DataDir)
	if err != nil {
		return err
	}
	b.r.row(fmt.Sprintf("PostgreSQL PSS, %d processes, %s", n, when), mib(pg.pss), "-", true)
	b.r.row(fmt.Sprintf("PostgreSQL RSS sum, %d processes, %s", n, when), mib(pg.rss), "-", true)
	tr, err := containerMemory(b.in.Name + "-traefik")
	if err != nil {
		return err
	}
	b.r.row("Traefik RSS "+when, mib(tr.rss), "-", true)
	return nil
}
