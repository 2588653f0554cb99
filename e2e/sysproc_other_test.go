//go:build !linux

package e2e

import "syscall"

func childAttrs() *syscall.SysProcAttr { return nil }
