package main

import (
	"runtime"
	"sync"

	"github.com/bgdns/bgdns/dnsserver"
)

// GOMAXPROCS belongs to the program, not to the dnsserver package. Where
// the DNS server's UDP readers are threads (Linux on amd64 and arm64),
// each keeps a Go processor while queries come in; reserveDNSProcs adds
// those to GOMAXPROCS so that the control plane keeps what it had.

// cpuProcs is GOMAXPROCS before any processor was added for readers: the
// CPUs this process may use.
var cpuProcs = sync.OnceValue(func() int { return max(1, runtime.GOMAXPROCS(0)) })

var procsMu sync.Mutex

// reserveDNSProcs fixes cfg.UDPReaders (0 becomes one reader per CPU the
// process may use, counted before any processor was added, so that several
// nodes in one process get the same number) and raises GOMAXPROCS by the
// processors those readers hold (dnsserver.Config.ReaderProcs). Call it
// once per DNS server before dnsserver.New, and the returned release once
// that server has shut down; calling release again does nothing.
func reserveDNSProcs(cfg *dnsserver.Config) (release func()) {
	if cfg.UDPReaders <= 0 {
		cfg.UDPReaders = cpuProcs()
	}
	n := cfg.ReaderProcs()
	if n == 0 {
		return func() {}
	}
	procsMu.Lock()
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n)
	procsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			procsMu.Lock()
			runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)-n))
			procsMu.Unlock()
		})
	}
}
