//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// readerSlice is the scheduler time slice asked for the UDP reader
// threads: the shortest Linux allows. Since Linux 6.12 the fair scheduler
// (EEVDF) lets a waking thread with a shorter slice than the running one
// preempt it at once; with the default slice (0.7 ms) a reader woken by a
// query while a control-plane thread ran on the same CPU waited for that
// thread's slice to end. A reader runs for microseconds per batch, so a
// short slice costs it nothing. Older kernels ignore the request.
const readerSlice = 100_000 // ns

// schedOther is the SCHED_OTHER policy, the fair scheduler.
const schedOther = 0

// schedAttr is the kernel's struct sched_attr.
type schedAttr struct {
	size     uint32
	policy   uint32
	flags    uint64
	nice     int32
	priority uint32
	runtime  uint64 // for SCHED_OTHER: the slice, in ns (Linux 6.12+)
	deadline uint64
	period   uint64
	utilMin  uint32
	utilMax  uint32
}

// shortenSlice gives the calling thread readerSlice, keeping its nice
// value and policy (SCHED_OTHER). No privilege is needed for either.
func shortenSlice() error {
	// The system call returns 20 - nice, so that it is never negative.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return err
	}
	a := schedAttr{policy: schedOther, nice: int32(20 - prio), runtime: readerSlice}
	a.size = uint32(unsafe.Sizeof(a))
	if _, _, e := unix.Syscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&a)), 0); e != 0 {
		return e
	}
	return nil
}

// threadSlice is the slice of thread tid (for tests and diagnostics).
func threadSlice(tid int) (uint64, error) {
	var a schedAttr
	if _, _, e := unix.Syscall6(unix.SYS_SCHED_GETATTR, uintptr(tid), uintptr(unsafe.Pointer(&a)), unsafe.Sizeof(a), 0, 0, 0); e != 0 {
		return 0, e
	}
	return a.runtime, nil
}
