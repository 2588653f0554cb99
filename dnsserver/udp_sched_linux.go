//go:build linux && (amd64 || arm64)

package dnsserver

import "golang.org/x/sys/unix"

// readerSlice is the scheduler time slice asked for the UDP reader
// threads: the shortest Linux allows. Since Linux 6.12 the fair scheduler
// (EEVDF) lets a waking thread with a shorter slice than the running one
// preempt it at once; with the default slice (0.7 ms) a reader woken by a
// query while a control-plane thread ran on the same CPU waited for that
// thread's slice to end. A reader runs for microseconds per batch, so a
// short slice costs it nothing. Older kernels ignore the request.
const readerSlice = 100_000 // ns

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
// normal (fair) policy. For SCHED_NORMAL the kernel reads Runtime as the
// thread's slice (Linux 6.12+).
func setSched(nice int) error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_NORMAL, Nice: int32(nice), Runtime: readerSlice}, 0)
}

// threadSched returns the slice and nice value of thread tid (for tests
// and diagnostics).
func threadSched(tid int) (slice uint64, nice int, err error) {
	a, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return 0, 0, err
	}
	return a.Runtime, int(a.Nice), nil
}
