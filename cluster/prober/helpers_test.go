package prober

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

const (
	zone    = "bg.example.test."
	svcName = "api.bg.example.test."
)

// fakeCluster is a replicated state machine reduced to one state and a
// leader id; every fakeNode of it sees the same state.
type fakeCluster struct {
	mu     sync.Mutex
	st     *control.State
	index  uint64
	leader string
}

type fakeNode struct {
	c  *fakeCluster
	id string
}

func newFakeCluster(t *testing.T, leader string) *fakeCluster {
	c := &fakeCluster{st: control.Empty(), leader: leader}
	c.must(t, control.Command{Op: control.OpZonePut, Name: zone, Zone: &control.ZoneSpec{
		AllowLoopback: true, // the backends of these tests listen on loopback
		Glue:          map[string][]netip.Addr{"ns1." + zone: addrs("127.0.0.53")}}})
	return c
}

func (c *fakeCluster) node(id string) fakeNode { return fakeNode{c: c, id: id} }

func (c *fakeCluster) setLeader(id string) {
	c.mu.Lock()
	c.leader = id
	c.mu.Unlock()
}

func (c *fakeCluster) apply(cmd control.Command) control.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.index++
	ns, r := c.st.Apply(cmd, c.index)
	c.st = ns
	return r
}

func (c *fakeCluster) state() *control.State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}

func (c *fakeCluster) service() *control.Service { return c.state().Service(svcName) }

// do applies an operator's command, stamped as the API would.
func (c *fakeCluster) do(cmd control.Command) control.Result {
	if cmd.Time.IsZero() {
		cmd.Time = time.Now().UTC()
	}
	if cmd.Actor == "" {
		cmd.Actor = "test"
	}
	return c.apply(cmd)
}

func (c *fakeCluster) must(t *testing.T, cmd control.Command) control.Result {
	t.Helper()
	r := c.do(cmd)
	if r.Err != nil {
		t.Fatalf("%s %s: %v", cmd.Op, cmd.Name, r.Err)
	}
	return r
}

func (n fakeNode) State() *control.State { return n.c.state() }

func (n fakeNode) IsLeader() bool {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	return n.c.leader == n.id
}

func (n fakeNode) Propose(ctx context.Context, cmd control.Command) (control.Result, error) {
	n.c.mu.Lock()
	leader := n.c.leader
	n.c.mu.Unlock()
	if leader != n.id {
		return control.Result{}, &control.Error{Code: control.CodeNotLeader, Message: "not the leader"}
	}
	if cmd.Time.IsZero() { // as the leader stamps it
		cmd.Time = time.Now().UTC()
	}
	return n.c.apply(cmd), nil
}

// startProber runs a prober for node until the test ends.
func startProber(t *testing.T, b Backend) {
	startProberLog(t, b, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// startProberLog is startProber logging to log.
func startProberLog(t *testing.T, b Backend, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	p := New(b, Options{Tick: 10 * time.Millisecond, Backoff: 50 * time.Millisecond, Logger: log})
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// eventually polls cond until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// backend is a health endpoint on one loopback address that the test turns
// up and down. HTTP backends answer with status (200 by default).
type backend struct {
	t      *testing.T
	addr   string // ip:port
	http   bool
	status atomic.Int32
	host   atomic.Value // when set, other Host headers get 421

	mu  sync.Mutex
	ln  net.Listener
	srv *http.Server
}

// newBackends listens on ips[0]:0, then on the same port on the other
// addresses of 127.0.0.0/8, and returns the port.
func newBackends(t *testing.T, isHTTP bool, ips ...string) (int, []*backend) {
	t.Helper()
	var port int
	var out []*backend
	for i, ip := range ips {
		b := &backend{t: t, http: isHTTP}
		b.status.Store(200)
		b.addr = net.JoinHostPort(ip, "0")
		if i > 0 {
			b.addr = net.JoinHostPort(ip, strconv.Itoa(int(port)))
		}
		b.up()
		if i == 0 {
			port = b.ln.Addr().(*net.TCPAddr).Port
			b.addr = b.ln.Addr().String()
		}
		out = append(out, b)
		t.Cleanup(b.down)
	}
	return port, out
}

func (b *backend) up() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ln != nil {
		return
	}
	var ln net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ln, err = net.Listen("tcp", b.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		b.t.Fatalf("listen %s: %v", b.addr, err)
	}
	b.ln = ln
	if !b.http {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		return
	}
	b.srv = &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, _ := b.host.Load().(string); h != "" && r.Host != h {
			w.WriteHeader(http.StatusMisdirectedRequest)
			return
		}
		w.WriteHeader(int(b.status.Load()))
	})}
	go b.srv.Serve(ln)
}

func (b *backend) down() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		b.srv.Close()
	} else if b.ln != nil {
		b.ln.Close()
	}
	b.ln, b.srv = nil, nil
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func healthOf(c *fakeCluster, col control.Colour) control.HealthCounts {
	return c.service().HealthOf(col)
}

func statusOf(c *fakeCluster, a string) control.AddrHealth {
	return c.service().AddrStatus(netip.MustParseAddr(a))
}

func fastHTTPCheck(port int) *control.HealthCheck {
	return &control.HealthCheck{Type: "http", Port: port, Path: "/healthz",
		Interval: control.Duration(100 * time.Millisecond), Timeout: control.Duration(90 * time.Millisecond), Rise: 2, Fall: 3}
}

// transitions counts the address transitions committed (a health record
// lists one or more, separated by "; ").
func transitions(c *fakeCluster) int {
	n := 0
	for _, r := range historyOf(c, control.OpHealth) {
		n += strings.Count(r.Reason, ";") + 1
	}
	return n
}

func historyOf(c *fakeCluster, op control.Op) []control.Record {
	recs, _ := c.state().History(svcName, 0)
	var out []control.Record
	for _, r := range recs {
		if r.Action == op {
			out = append(out, r)
		}
	}
	return out
}
