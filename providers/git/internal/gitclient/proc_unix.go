//go:build unix

package gitclient

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel starts cmd in its own process group and makes the
// cancellation of its context kill the whole group: git's helpers
// (git-remote-https, ssh, upload-pack) die with it.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
