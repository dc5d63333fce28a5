package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
)

// Bounds on what is quoted from a failed container.
const (
	logTailLines = 5
	maxQuoteLen  = 400
)

// explain says why a rollout failed in words a user can act on: a failed
// health check with the check's last output, an exit code with the
// process's last output, or Swarm's error.
func (m *Manager) explain(ctx context.Context, f *rolloutFailure, healthChecked bool) string {
	t := f.task
	if t == nil {
		if f.swarmMessage != "" {
			return f.swarmMessage
		}
		return f.detail
	}
	st := t.Status
	var containerID string
	if st.ContainerStatus != nil {
		containerID = st.ContainerStatus.ContainerID
	}
	var reason string
	switch {
	case strings.Contains(st.Err, "unhealthy container"):
		return "health check failed" + m.healthOutput(ctx, containerID)
	case st.State == swarm.TaskStatePending:
		return "task cannot be scheduled: " + st.Err
	case st.ContainerStatus != nil && st.ContainerStatus.ExitCode != 0:
		reason = fmt.Sprintf("process exited with exit code %d", st.ContainerStatus.ExitCode)
	case m.failedHealth(ctx, containerID):
		// A process that exits 0 on SIGTERM when Swarm stops it for being
		// unhealthy leaves no error on the task: only the container tells.
		return "health check failed" + m.healthOutput(ctx, containerID)
	case st.State == swarm.TaskStateComplete && healthChecked:
		reason = "process exited with exit code 0 before its health check passed"
	case st.State == swarm.TaskStateComplete:
		reason = "process exited with exit code 0 (an application must keep running)"
	case st.Err != "":
		reason = st.Err
	default:
		reason = fmt.Sprintf("task %s: %s", st.State, st.Message)
	}
	if out := m.lastLogs(ctx, containerID); out != "" {
		reason += "; last output: " + out
	}
	return reason
}

// failedHealth reports whether the container's last health probe failed.
func (m *Manager) failedHealth(ctx context.Context, containerID string) bool {
	last := m.lastProbe(ctx, containerID)
	return last != nil && last.ExitCode != 0
}

// healthOutput is ": " and the output of the container's last health
// probe, or "" when it is not known (e.g. the container is on another node).
func (m *Manager) healthOutput(ctx context.Context, containerID string) string {
	last := m.lastProbe(ctx, containerID)
	if last == nil {
		return ""
	}
	return fmt.Sprintf(": probe exited %d: %s", last.ExitCode, quote(last.Output))
}

func (m *Manager) lastProbe(ctx context.Context, containerID string) *container.HealthcheckResult {
	if containerID == "" {
		return nil
	}
	c, err := m.docker.ContainerInspect(ctx, containerID)
	if err != nil || c.State == nil || c.State.Health == nil || len(c.State.Health.Log) == 0 {
		return nil
	}
	return c.State.Health.Log[len(c.State.Health.Log)-1]
}

// lastLogs is the tail of the container's output, when the container is on
// this node.
func (m *Manager) lastLogs(ctx context.Context, containerID string) string {
	if containerID == "" {
		return ""
	}
	rc, err := m.docker.ContainerLogs(ctx, containerID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(logTailLines),
	})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, 64<<10)); err != nil && buf.Len() == 0 {
		return ""
	}
	return quote(buf.String())
}

// quote folds output onto one bounded line.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxQuoteLen {
		s = s[:maxQuoteLen] + "…"
	}
	return s
}
