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

// readerBoost is how many nice levels the reader threads ask to run above
// the rest of the process. The short slice lets a woken reader preempt a
// busy control-plane thread, but only while the fair scheduler counts it
// as owed CPU time; a reader that answered many queries lately has used
// more than its share and waits out the other thread's slice. With a
// larger weight it stays ahead. Going below the process's nice value
// needs CAP_SYS_NICE or a raised RLIMIT_NICE; without either the readers
// keep the process's priority and only the short slice.
const readerBoost = 10

// prioritizeReader gives the calling thread readerSlice and, when the
// process may, a nice value readerBoost below its own (never below -20).
// It reports whether the boost was granted.
func prioritizeReader() (boosted bool, err error) {
	// The system call returns 20 - nice, so that it is never negative.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		return false, err
	}
	nice := 20 - prio
	if err := setSched(max(-20, nice-readerBoost)); err == nil {
		return true, nil
	}
	return false, setSched(nice)
}

// setSched sets the calling thread's nice value and readerSlice, in the
// normal (fair) policy.
func setSched(nice int) error {
	a := schedAttr{policy: schedOther, nice: int32(nice), runtime: readerSlice}
	a.size = uint32(unsafe.Sizeof(a))
	if _, _, e := unix.Syscall(unix.SYS_SCHED_SETATTR, 0, uintptr(unsafe.Pointer(&a)), 0); e != 0 {
		return e
	}
	return nil
}

// threadSched returns the slice and nice value of thread tid (for tests
// and diagnostics).
func threadSched(tid int) (slice uint64, nice int, err error) {
	var a schedAttr
	if _, _, e := unix.Syscall6(unix.SYS_SCHED_GETATTR, uintptr(tid), uintptr(unsafe.Pointer(&a)), unsafe.Sizeof(a), 0, 0, 0); e != 0 {
		return 0, 0, e
	}
	return a.runtime, int(a.nice), nil
}
