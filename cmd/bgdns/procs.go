package main

import (
	"runtime"
	"sync"
)

// cpuProcs is GOMAXPROCS as the runtime chose it at start-up: the CPUs
// this process may use (affinity mask and cgroup quota).
var cpuProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

func init() { cpuProcs() }

// reserveReaderProcs settles the number of UDP readers of one DNS server
// (readers, or one per CPU when 0) and adds as many processors to
// GOMAXPROCS. Each reader is an OS thread that waits in the kernel for
// packets; when one wakes it, it needs a Go processor to run on, and if
// the control plane (HTTP, Raft, the prober) held all of them, the query
// would wait behind that work. With a processor per reader on top of one
// per CPU, the kernel's scheduler decides between reader and control
// plane, and the reader wins (dnsserver/udp_sched_linux.go).
func reserveReaderProcs(readers int) int {
	if readers <= 0 {
		readers = cpuProcs()
	}
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + readers)
	return readers
}
