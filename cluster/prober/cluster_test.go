package prober

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/bgdns/bgdns/cluster"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// rnode is one member of an in-process Raft cluster (in-memory transport
// and stores) with its own prober.
var lastInmemPort atomic.Uint32

// inmemAddr is a fresh address, host:port shaped as a join request needs,
// for an in-memory transport (nothing listens on it).
func inmemAddr() raft.ServerAddress {
	return raft.ServerAddress(fmt.Sprintf("127.0.0.1:%d", 20000+lastInmemPort.Add(1)))
}

type rnode struct {
	id     string
	addr   raft.ServerAddress
	trans  *raft.InmemTransport
	logs   *raft.InmemStore
	snaps  raft.SnapshotStore
	url    string // base URL under which the cluster's InmemPeers reach it
	cur    atomic.Pointer[cluster.Node]
	n      *cluster.Node
	stopPr context.CancelFunc
	prDone chan struct{}
	closed bool
}

type rcluster struct {
	t     *testing.T
	nodes []*rnode
	peers *cluster.InmemPeers
}

func testLog() *slog.Logger {
	if os.Getenv("BGDNS_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newRaftCluster(t *testing.T, size int) *rcluster {
	t.Helper()
	c := &rcluster{t: t, peers: cluster.NewInmemPeers()}
	for i := 0; i < size; i++ {
		rn := &rnode{id: string(rune('a'+i)) + "1", logs: raft.NewInmemStore(), snaps: raft.NewInmemSnapshotStore(), closed: true}
		rn.addr, rn.trans = raft.NewInmemTransport(inmemAddr())
		rn.url = "http://" + rn.id + ".test:8053"
		c.nodes = append(c.nodes, rn)
	}
	t.Cleanup(c.close)
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if a != b {
				a.trans.Connect(b.addr, b.trans)
			}
		}
	}
	c.open(c.nodes[0], true)
	eventually(t, "a first leader", c.nodes[0].n.IsLeader)
	for _, rn := range c.nodes[1:] {
		c.open(rn, false)
		req := peer.JoinRequest{ID: rn.id, RaftAddr: string(rn.addr), HTTPAddr: rn.url}
		eventually(t, "join "+rn.id, func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return c.nodes[0].n.Join(ctx, req) == nil
		})
	}
	for _, rn := range c.nodes {
		eventually(t, rn.id+" serving", rn.n.Serving)
	}
	return c
}

// open starts rn's node and its prober.
func (c *rcluster) open(rn *rnode, bootstrap bool) {
	c.t.Helper()
	n, err := cluster.Open(cluster.Config{
		NodeID: rn.id, HTTPAddr: rn.url, Peers: c.peers, Bootstrap: bootstrap, MaxStale: 600 * time.Millisecond,
		Logger: testLog().With("node", rn.id), Transport: rn.trans, LogStore: rn.logs, StableStore: rn.logs,
		SnapshotStore: rn.snaps, HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond, CommitTimeout: 5 * time.Millisecond,
	})
	if err != nil {
		c.t.Fatalf("open %s: %v", rn.id, err)
	}
	rn.n, rn.closed = n, false
	rn.cur.Store(n)
	c.peers.Register(rn.url, n)
	ctx, cancel := context.WithCancel(context.Background())
	rn.stopPr, rn.prDone = cancel, make(chan struct{})
	p := New(n, Options{Tick: 10 * time.Millisecond, Backoff: 50 * time.Millisecond,
		Logger: testLog().With("node", rn.id)})
	go func() { p.Run(ctx); close(rn.prDone) }()
}

// crash cuts rn off and stops it (and its prober) without a handover.
func (c *rcluster) crash(rn *rnode) {
	if rn.closed {
		return
	}
	for _, o := range c.nodes {
		if o != rn {
			rn.trans.Disconnect(o.addr)
			o.trans.Disconnect(rn.addr)
		}
	}
	rn.stopPr()
	<-rn.prDone
	rn.closed = true
	rn.cur.Store(nil)
	c.peers.Register(rn.url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rn.n.Shutdown(ctx)
}

// restart opens a crashed node again on its stores and address.
func (c *rcluster) restart(rn *rnode) {
	c.t.Helper()
	_, rn.trans = raft.NewInmemTransport(rn.addr)
	for _, o := range c.nodes {
		if o != rn {
			rn.trans.Connect(o.addr, o.trans)
			o.trans.Connect(rn.addr, rn.trans)
		}
	}
	c.open(rn, false)
}

func (c *rcluster) close() {
	for _, rn := range c.nodes {
		c.crash(rn)
	}
}

func (c *rcluster) leader() *rnode {
	c.t.Helper()
	var found *rnode
	eventually(c.t, "a leader", func() bool {
		for _, rn := range c.nodes {
			if !rn.closed && rn.n.IsLeader() {
				found = rn
				return true
			}
		}
		return false
	})
	return found
}

// propose commits cmd through whichever node leads, retrying while the
// leadership moves.
func (c *rcluster) propose(cmd control.Command) control.Result {
	c.t.Helper()
	cmd.Time, cmd.Actor = time.Now().UTC(), "test"
	var res control.Result
	eventually(c.t, "commit "+string(cmd.Op), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r, err := c.leader().n.Propose(ctx, cmd)
		if err != nil {
			return false
		}
		res = r
		return true
	})
	if res.Err != nil {
		c.t.Fatalf("%s: %v", cmd.Op, res.Err)
	}
	return res
}

// onAll waits until cond holds for the service on every running node.
func (c *rcluster) onAll(what string, cond func(*control.Service) bool) {
	c.t.Helper()
	eventually(c.t, what+" on every node", func() bool {
		for _, rn := range c.nodes {
			if rn.closed {
				continue
			}
			svc := rn.n.State().Service(svcName)
			if svc == nil || !cond(svc) {
				return false
			}
		}
		return true
	})
}

func countOps(st *control.State, op control.Op) int {
	recs, _ := st.History(svcName, 0)
	n := 0
	for _, r := range recs {
		if r.Action == op {
			n++
		}
	}
	return n
}

// Three Raft nodes each run a prober. The leader crashes while the new
// colour is validating; the new leader's prober sees the colour fail and
// rolls back, exactly once; after another leader change the rollback stays
// and probing goes on from the committed health.
func TestThreeNodeClusterRollsBackOnceAcrossLeaderChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("raft cluster")
	}
	port, bk := newBackends(t, true, "127.0.0.1", "127.0.0.2")
	c := newRaftCluster(t, 3)
	c.propose(control.Command{Op: control.OpZonePut, Name: zone, Zone: &control.ZoneSpec{
		AllowLoopback: true, // the backends of these tests listen on loopback
		Glue:          map[string][]netip.Addr{"ns1." + zone: addrs("127.0.0.53")}}})
	c.propose(control.Command{Op: control.OpServicePut, Name: svcName, Service: &control.ServiceSpec{
		HealthCheck: fastHTTPCheck(port),
		Validation:  &control.Validation{Window: control.Duration(time.Minute), AutoRollback: true},
		Blue:        &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1")},
		Green:       &control.Pool{Version: "2.0", Addresses: addrs("127.0.0.2")}}})
	c.onAll("both colours healthy", func(s *control.Service) bool {
		return s.HealthOf(control.Blue).Healthy == 1 && s.HealthOf(control.Green).Healthy == 1
	})
	c.propose(control.Command{Op: control.OpSwitch, Name: svcName, Reason: "2.0"})
	c.onAll("green validating", func(s *control.Service) bool { return s.State == control.PhaseValidating })

	first := c.leader()
	c.crash(first) // a leader change inside the window
	second := c.leader()
	if second == first {
		t.Fatal("no new leader")
	}
	bk[1].down()
	c.onAll("rolled back to blue", func(s *control.Service) bool {
		return s.Active == control.Blue && s.State == control.PhaseRolledBack
	})

	c.restart(first)
	c.onAll("the restarted node caught up", func(s *control.Service) bool { return s.Active == control.Blue })
	c.crash(second) // and another leader change
	c.leader()
	bk[1].up()
	c.onAll("green up again, committed by the third leader", func(s *control.Service) bool {
		return s.AddrStatus(addrs("127.0.0.2")[0]).Status == control.HealthUp
	})

	for _, rn := range c.nodes {
		if rn.closed {
			continue
		}
		st := rn.n.State()
		if n := countOps(st, control.OpRollback); n != 1 {
			recs, _ := st.History(svcName, 0)
			t.Fatalf("%s: %d rollbacks, want 1: %+v", rn.id, n, recs)
		}
		svc := st.Service(svcName)
		if svc.Active != control.Blue || svc.State != control.PhaseRolledBack {
			t.Fatalf("%s: the rollback did not stay: %+v", rn.id, svc)
		}
		recs, _ := st.History(svcName, 0)
		transitions := 0
		for _, r := range recs {
			if r.Action == control.OpHealth {
				transitions += strings.Count(r.Reason, ";") + 1
			}
		}
		// blue up, green up, green down, green up: each committed once
		if transitions != 4 {
			t.Fatalf("%s: %d health transitions committed, want 4: %+v", rn.id, transitions, recs)
		}
		for _, r := range recs {
			if r.Action == control.OpRollback && (r.Actor != "bgdns" || !strings.Contains(r.Reason, "validation of green")) {
				t.Fatalf("rollback record: %+v", r)
			}
		}
	}
}
