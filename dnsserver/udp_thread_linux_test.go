//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"context"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// TestUDPReadersRunOnThreadsOfTheirOwn checks that each UDP reader is an
// OS thread of its own with the short time slice, that those threads
// answer, and that Shutdown ends them, whether they wait for packets or
// queries keep coming.
func TestUDPReadersRunOnThreadsOfTheirOwn(t *testing.T) {
	t.Run("idle", func(t *testing.T) { testReaderThreads(t, false) })
	t.Run("flood", func(t *testing.T) { testReaderThreads(t, true) })
}

func testReaderThreads(t *testing.T, flooded bool) {
	cfg := Config{UDPReaders: 3}
	if got := cfg.ReaderProcs(); got != 3 {
		t.Fatalf("ReaderProcs %d with 3 reader threads, want a processor per reader", got)
	}
	// GOMAXPROCS is the caller's: raised by what the readers hold, as
	// the program does, and left alone by the server.
	base := runtime.GOMAXPROCS(0)
	procs := base + cfg.ReaderProcs()
	runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(base)
	s := newTestServer(t, cfg, newTestSource(t))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS %d after Start, want %d: the server must leave it to its caller", got, procs)
	}
	readers, ok := s.udp.(*threadReaders)
	if !ok {
		t.Fatalf("udp readers %T, want reader threads", s.udp)
	}
	var tids []int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if tids = readers.readerThreads(); len(tids) == 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(tids) != 3 || tids[0] == tids[1] || tids[1] == tids[2] || tids[0] == tids[2] {
		t.Fatalf("reader threads %v, want 3 distinct", tids)
	}
	// The nice value of this test's own thread is the process's: the main
	// thread may have been a reader of an earlier server (the runtime parks
	// it for good when a locked goroutine ends on it, settings and all).
	runtime.LockOSThread()
	_, procNice, err := threadSched(unix.Gettid())
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	wantNice := procNice // without the privilege to raise priority
	if os.Geteuid() == 0 {
		wantNice = max(-20, procNice-readerBoost)
	}
	for _, tid := range tids {
		slice, nice, err := threadSched(tid)
		if err != nil {
			t.Fatalf("thread %d: %v", tid, err)
		}
		if nice != wantNice {
			t.Errorf("reader thread %d runs at nice %d, want %d (the process: %d)", tid, nice, wantNice, procNice)
		}
		if slice != readerSlice {
			if slice == 0 {
				t.Skipf("this kernel keeps no time slice per thread (Linux 6.12+)")
			}
			t.Fatalf("thread %d has a %d ns slice, want %d", tid, slice, readerSlice)
		}
	}

	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	for range 20 {
		m, _, err := c.Exchange(query("api."+testZone, dns.TypeA), s.Addr())
		if err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Fatalf("query: %v %v", err, m)
		}
	}

	stopFlood := func() {}
	if flooded {
		stopFlood = flood(t, s.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = s.Shutdown(ctx)
	stopFlood()
	if err != nil {
		t.Fatalf("shutdown (flooded %v): %v", flooded, err)
	}

	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Errorf("GOMAXPROCS %d after shutdown, want %d: the server must leave it to its caller", got, procs)
	}

	// The reader threads ended with their readers (the process's main
	// thread cannot end: the runtime parks it for good instead).
	for _, tid := range tids {
		if tid == os.Getpid() {
			continue
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid)); os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reader thread %d still exists after shutdown", tid)
			}
		}
	}

	// Nothing holds the socket any more: the port can be bound again.
	pc, err := net.ListenPacket("udp", s.Addr())
	if err != nil {
		t.Fatalf("the UDP port is still held after shutdown: %v", err)
	}
	pc.Close()
}

// flood sends queries to addr as fast as it can until the returned
// function is called.
func flood(t *testing.T, addr string) (stop func()) {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := query("api."+testZone, dns.TypeA).Pack()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
				_, _ = conn.Write(raw)
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	return func() {
		close(quit)
		<-done
		conn.Close()
	}
}

// TestUDPPollerLoopAnswers runs the portable loop (udp.go), which Linux
// falls back to when the socket cannot be taken over, on a socket of its
// own and checks its replies against the handler.
func TestUDPPollerLoopAnswers(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.serveUDP(pc) }()
	defer func() { pc.Close(); <-done }()

	conn, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 65535)
	for i, name := range fastNames(src.State()) {
		m := query(name, fastTypes[i%len(fastTypes)])
		m.Id = uint16(i + 1)
		raw, _ := m.Pack()
		for range 2 { // the first is built by the handler, the second is a fast-path hit
			if _, err := conn.Write(raw); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want, _ := s.handle(raw, testClient, false); string(buf[:n]) != string(want) {
				t.Fatalf("%s: reply differs from the handler's", name)
			}
		}
	}
}
