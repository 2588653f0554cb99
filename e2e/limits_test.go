package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// rssBound is what a node's resident memory must stay under while it is
// flooded with idle connections: a -race build of an idle node uses well
// under half of it.
const rssBound = 300 << 20

// vmRSS reads the resident set size of process pid (bytes).
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// raiseNoFile lifts the test process's open file limit to at least n
// (up to the hard limit), skipping the test when that is not enough.
func raiseNoFile(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("RLIMIT_NOFILE hard limit %d is below the %d connections this test opens", lim.Max, n)
	}
	old := lim.Cur
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lim.Cur = old
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	})
}

// flood keeps n idle TCP connections from src to dst: each of its n
// workers dials, sends nothing, waits for the server to close the
// connection and dials again (after a pause of a few seconds, so that
// refused connections do not turn into a busy loop on a shared machine).
type flood struct {
	what     string
	dialer   net.Dialer
	dst      string
	pause    time.Duration // between a closed connection and the next dial (with up to 50% jitter)
	stop     context.CancelFunc
	ctx      context.Context
	wg       sync.WaitGroup
	open     atomic.Int64 // connections established and not yet closed
	maxOpen  atomic.Int64
	dials    atomic.Int64
	workers  atomic.Int64 // workers that have dialled at least once
	failed   atomic.Int64 // dials that failed
	closed   atomic.Int64 // connections the server closed
	mu       sync.Mutex
	conns    map[net.Conn]bool
	stranded atomic.Int64 // connections still open when the flood was torn down
}

func startFlood(what, src, dst string, n int) *flood {
	return startFloodPaced(what, src, dst, n, 4*time.Second)
}

// startFloodPaced is startFlood with the pause between dials of a worker.
func startFloodPaced(what, src, dst string, n int, pause time.Duration) *flood {
	ctx, cancel := context.WithCancel(context.Background())
	f := &flood{
		what: what, dst: dst, pause: pause, ctx: ctx, stop: cancel, conns: map[net.Conn]bool{},
		dialer: net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second},
	}
	for i := 0; i < n; i++ {
		f.wg.Add(1)
		go f.worker()
	}
	return f
}

func (f *flood) worker() {
	defer f.wg.Done()
	buf := make([]byte, 1)
	for first := true; f.ctx.Err() == nil; first = false {
		if first {
			f.workers.Add(1)
		}
		f.dials.Add(1)
		c, err := f.dialer.DialContext(f.ctx, "tcp", f.dst)
		if err != nil {
			f.failed.Add(1)
		} else {
			f.track(c, true)
			o := f.open.Add(1)
			for m := f.maxOpen.Load(); o > m && !f.maxOpen.CompareAndSwap(m, o); m = f.maxOpen.Load() {
			}
			_, err := c.Read(buf) // blocks until the server closes, or teardown does
			f.open.Add(-1)
			if f.track(c, false) {
				f.closed.Add(1)
			}
			_ = err
			c.Close()
		}
		select {
		case <-f.ctx.Done():
		case <-time.After(f.pause + rand.N(f.pause/2+1)):
		}
	}
}

// track adds or removes c; removing reports whether c was still tracked
// (teardown removes the connections it closes itself first).
func (f *flood) track(c net.Conn, add bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if add {
		f.conns[c] = true
		return true
	}
	was := f.conns[c]
	delete(f.conns, c)
	return was
}

// Held is how many connections are open now.
func (f *flood) Held() int64 { return f.open.Load() }

// Stop stops dialling and waits until the server has closed every
// connection or timeout runs out; it returns how many were still open
// then (and closes them).
func (f *flood) Stop(timeout time.Duration) int64 {
	f.stop()
	_ = poll(timeout, func() error {
		if h := f.Held(); h > 0 {
			return fmt.Errorf("%d open", h)
		}
		return nil
	})
	f.mu.Lock()
	for c := range f.conns {
		delete(f.conns, c)
		f.stranded.Add(1)
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
	return f.stranded.Load()
}

func (f *flood) String() string {
	return fmt.Sprintf("%s: %d dials (%d failed), at most %d open at once, %d closed by the server",
		f.what, f.dials.Load(), f.failed.Load(), f.maxOpen.Load(), f.closed.Load())
}

// A node flooded with idle connections from one source (2,000 on its
// Raft port and 5,000 on its API port, redialled as soon as it drops
// them) keeps its memory bounded, answers a client from another source,
// and takes part in a write; with TLS, idle Raft and API connections that
// never handshake are dropped (after the handshake timeout), so none is
// left open once the attacker stops dialling.
func TestSecurityIdleConnectionFlood(t *testing.T) {
	const raftConns, apiConns = 2000, 5000
	raiseNoFile(t, raftConns+apiConns+1024)
	c := StartCluster(t, 3, ClusterOptions{Hosts: secureHosts, TLS: true})
	leader := c.Leader()
	var target *Node // a follower: the leader dials its Raft port, clients its API
	for _, n := range c.Nodes {
		if n != leader {
			target = n
			break
		}
	}
	putBlue(t, c, target)
	pid := target.PID()
	base, err := vmRSS(pid)
	if err != nil {
		t.Fatal(err)
	}

	const attacker = "127.0.0.2" // the members and the legitimate client use 127.0.0.1
	rf := startFlood("raft", attacker, target.RaftAddr, raftConns)
	af := startFlood("api", attacker, target.HTTPAddr, apiConns)
	defer rf.Stop(0)
	defer af.Stop(0)
	var peak int64
	sample := func() {
		t.Helper()
		rss, err := vmRSS(pid)
		if err != nil {
			t.Fatalf("%s: %v", target.ID, err)
		}
		peak = max(peak, rss)
		if rss >= rssBound {
			t.Fatalf("%s: RSS %d MiB under the flood, bound %d MiB (before: %d MiB)", target.ID, rss>>20, rssBound>>20, base>>20)
		}
	}
	// Wait until every worker has dialled at least once.
	eventually(t, 60*time.Second, "every flood connection dialled", func() error {
		sample()
		if w := rf.workers.Load(); w < raftConns {
			return fmt.Errorf("raft: %d of %d dialled", w, raftConns)
		}
		if w := af.workers.Load(); w < apiConns {
			return fmt.Errorf("api: %d of %d dialled", w, apiConns)
		}
		return nil
	})
	t.Logf("under the flood: %s; %s", rf, af)

	// The legitimate client, from another source, is served, each time on
	// a new connection.
	for i := 0; i < 5; i++ {
		sample()
		if err := freshGet(target.URL() + "/v1/services/" + svcName); err != nil {
			t.Fatalf("a legitimate client under the flood: %v", err)
		}
	}
	target.CLI("status") // a new connection from the CLI, which must succeed
	// The cluster commits a write through the flooded node, and every
	// node (the flooded one too) applies it.
	commitWrite(t, c, target, "10.0.0.13")
	sample()
	t.Logf("%s RSS: %d MiB before the flood, at most %d MiB under it (bound %d MiB)", target.ID, base>>20, peak>>20, rssBound>>20)

	// Stopped, the attacker is left with no open connection: the node drops
	// those that never handshake.
	if n := rf.Stop(30 * time.Second); n != 0 {
		t.Errorf("%d idle Raft connections still open 30s after the last dial, want none: %s", n, rf)
	}
	if n := af.Stop(30 * time.Second); n != 0 {
		t.Errorf("%d idle API connections still open 30s after the last dial, want none: %s", n, af)
	}
	t.Logf("after the flood: %s; %s", rf, af)
	// Refusals are logged once per source and listener a minute, not once
	// per connection: the flood is no way to fill the node's log.
	var about []string
	for _, line := range strings.Split(target.Log(), "\n") {
		if strings.Contains(line, attacker+":") || strings.Contains(line, "source="+attacker+" ") {
			about = append(about, line)
		}
	}
	if len(about) > 8 {
		t.Errorf("%s logged %d lines about the attacker's connections, want a few; the first ones:\n%s",
			target.ID, len(about), strings.Join(about[:8], "\n"))
	}
	sample()
	if !target.Ready() {
		t.Errorf("%s not ready after the flood", target.ID)
	}
}

// freshGet is a GET on a new connection (the harness's clients keep theirs
// alive), nil when it answers 200.
func freshGet(url string) error {
	cl := &http.Client{Transport: harnessTransport.Clone(), Timeout: 10 * time.Second * slow}
	defer cl.CloseIdleConnections()
	resp, err := cl.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", url, resp.StatusCode)
	}
	return nil
}

// Idle connections from a handful of sources (here 20, each within its
// per-source share, redialled a second after each drop) would fill
// --max-http-conns and --max-raft-conns if connections in their TLS
// handshake had no budget of their own: nearly every new legitimate API
// connection was refused while such a flood lasted.
func TestSecurityIdleFloodManySources(t *testing.T) {
	raiseNoFile(t, 20*(300+40)+1024)
	c := StartCluster(t, 3, ClusterOptions{Hosts: secureHosts, TLS: true})
	leader := c.Leader()
	var target *Node
	for _, n := range c.Nodes {
		if n != leader {
			target = n
			break
		}
	}
	putBlue(t, c, target)
	var floods []*flood
	for i := 1; i <= 20; i++ {
		src := fmt.Sprintf("127.0.1.%d", i)
		floods = append(floods,
			startFloodPaced("api from "+src, src, target.HTTPAddr, 300, time.Second),
			startFloodPaced("raft from "+src, src, target.RaftAddr, 40, time.Second))
	}
	defer func() {
		for _, f := range floods {
			f.Stop(0)
		}
	}()
	eventually(t, 60*time.Second, "every flood connection dialled", func() error {
		for _, f := range floods {
			if f.workers.Load() == 0 {
				return fmt.Errorf("%s: not started", f.what)
			}
		}
		return nil
	})
	// Most requests of a client from yet another source, each on a new
	// connection, are served.
	const tries = 40
	var failed int
	var last error
	for i := 0; i < tries; i++ {
		if err := freshGet(target.URL() + "/v1/services/" + svcName); err != nil {
			failed++
			last = err
		}
	}
	t.Logf("%d of %d new legitimate connections refused (last: %v); %s", failed, tries, last, floods[0])
	if failed > tries/10 {
		t.Errorf("%d of %d new legitimate connections refused under a flood from 20 sources", failed, tries)
	}
}
