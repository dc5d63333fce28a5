//go:build !unix

package gitclient

import "os/exec"

// killGroupOnCancel leaves cmd as is: without process groups only git
// itself is killed when its context ends.
func killGroupOnCancel(*exec.Cmd) {}
