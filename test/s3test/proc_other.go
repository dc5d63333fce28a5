//go:build !linux

package s3test

import "syscall"

// sysProcAttr returns nil: only Linux can kill the server with its parent.
func sysProcAttr() *syscall.SysProcAttr { return nil }
