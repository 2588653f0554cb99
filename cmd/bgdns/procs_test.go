package main

import (
	"runtime"
	"testing"

	"github.com/bgdns/bgdns/dnsserver"
)

func TestReserveDNSProcs(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	cfg := dnsserver.Config{UDPReaders: 3}
	release := reserveDNSProcs(&cfg)
	if got, want := runtime.GOMAXPROCS(0), base+cfg.ReaderProcs(); got != want {
		t.Fatalf("GOMAXPROCS %d with 3 readers, want %d + %d", got, base, cfg.ReaderProcs())
	}
	release()
	release()
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS %d after release, want %d", got, base)
	}

	// Readers left to the default are counted from the CPUs the process
	// had before any were added, however many servers came first.
	first := dnsserver.Config{}
	r1 := reserveDNSProcs(&first)
	second := dnsserver.Config{}
	r2 := reserveDNSProcs(&second)
	if first.UDPReaders != cpuProcs() || second.UDPReaders != first.UDPReaders {
		t.Errorf("default readers %d and %d, want %d each", first.UDPReaders, second.UDPReaders, cpuProcs())
	}
	r2()
	r1()
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS %d after both released, want %d", got, base)
	}
}
