//go:build linux

package e2e

import "syscall"

// childAttrs makes a node die with the test binary, so an interrupted test
// run leaves no server behind.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
