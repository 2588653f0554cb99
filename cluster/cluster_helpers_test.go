package cluster

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// tnode is one member of an in-process test cluster: in-memory transport
// and stores, reached by the others through the cluster's InmemPeers.
type tnode struct {
	id     string
	addr   raft.ServerAddress
	trans  *raft.InmemTransport
	logs   *raft.InmemStore
	snaps  raft.SnapshotStore
	url    string // base URL under which the test's InmemPeers reach it
	cur    atomic.Pointer[Node]
	n      *Node
	closed bool
}

var lastInmemPort atomic.Uint32

// inmemAddr is a fresh address, host:port shaped as a join request needs,
// for an in-memory transport (nothing listens on it).
func inmemAddr() raft.ServerAddress {
	return raft.ServerAddress(fmt.Sprintf("127.0.0.1:%d", 20000+lastInmemPort.Add(1)))
}

type testCluster struct {
	t     *testing.T
	nodes []*tnode
	opts  []func(*Config)
	peers *InmemPeers
}

// newTNode makes a node's in-memory log, transport and API server, and a
// file snapshot store in a temporary directory (raft's in-memory snapshot
// store lets a snapshot be opened while it is still being written).
func newTNode(t *testing.T, id string) *tnode {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(t.TempDir(), 2, newHCLogger(testLogger(), "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	tn := &tnode{closed: true, id: id, logs: raft.NewInmemStore(), snaps: snaps}
	tn.addr, tn.trans = raft.NewInmemTransport(inmemAddr())
	tn.url = "http://" + id + ".test:8053"
	return tn
}

func (c *testCluster) config(tn *tnode, bootstrap bool) Config {
	cfg := Config{
		NodeID: tn.id, HTTPAddr: tn.url, Peers: c.peers, DNSAddr: "127.0.0.1:53", Bootstrap: bootstrap,
		MaxStale: time.Second, Logger: testLogger().With("node", tn.id),
		Transport: tn.trans, LogStore: tn.logs, StableStore: tn.logs, SnapshotStore: tn.snaps,
		HeartbeatTimeout: 400 * time.Millisecond, ElectionTimeout: 400 * time.Millisecond,
		LeaderLeaseTimeout: 200 * time.Millisecond, CommitTimeout: 5 * time.Millisecond,
	}
	for _, o := range c.opts {
		o(&cfg)
	}
	return cfg
}

// newTestCluster starts size nodes: the first bootstraps, the others join
// through it. It returns once every node serves.
func newTestCluster(t *testing.T, size int, opts ...func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, opts: opts, peers: NewInmemPeers()}
	for i := 0; i < size; i++ {
		c.nodes = append(c.nodes, newTNode(t, string(rune('a'+i))+"1"))
	}
	t.Cleanup(c.close)
	c.connectAll()
	c.open(c.nodes[0], true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.nodes[0].n.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tn := range c.nodes[1:] {
		c.open(tn, false)
		c.join(tn)
	}
	c.waitServing(c.nodes...)
	return c
}

func (c *testCluster) open(tn *tnode, bootstrap bool) {
	c.t.Helper()
	n, err := Open(c.config(tn, bootstrap))
	if err != nil {
		c.t.Fatalf("open %s: %v", tn.id, err)
	}
	tn.n, tn.closed = n, false
	tn.cur.Store(n)
	c.peers.Register(tn.url, n)
}

func (c *testCluster) join(tn *tnode) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := peer.JoinRequest{ID: tn.id, RaftAddr: string(tn.addr), HTTPAddr: tn.url, DNSAddr: "127.0.0.1:53"}
	for {
		err := c.leader().n.Join(ctx, req)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			c.t.Fatalf("join %s: %v", tn.id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *testCluster) connectAll() {
	for _, a := range c.nodes {
		for _, b := range c.nodes {
			if a != b {
				a.trans.Connect(b.addr, b.trans)
			}
		}
	}
}

// isolate cuts tn off from every other node, both ways.
func (c *testCluster) isolate(tn *tnode) {
	for _, o := range c.nodes {
		if o != tn {
			tn.trans.Disconnect(o.addr)
			o.trans.Disconnect(tn.addr)
		}
	}
}

// heal reconnects tn with every other node.
func (c *testCluster) heal(tn *tnode) {
	for _, o := range c.nodes {
		if o != tn {
			tn.trans.Connect(o.addr, o.trans)
			o.trans.Connect(tn.addr, tn.trans)
		}
	}
}

// stop shuts a node down, keeping its stores for a restart.
func (c *testCluster) stop(tn *tnode) {
	if tn.closed {
		return
	}
	tn.closed = true
	tn.cur.Store(nil)
	c.peers.Register(tn.url, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tn.n.Shutdown(ctx)
	for _, o := range c.nodes {
		o.trans.Disconnect(tn.addr)
	}
}

// crash stops a node without handing leadership over: it is cut off first.
func (c *testCluster) crash(tn *tnode) {
	c.isolate(tn)
	c.stop(tn)
}

// restart opens a stopped node again on its old stores and address.
func (c *testCluster) restart(tn *tnode) {
	c.t.Helper()
	_, tn.trans = raft.NewInmemTransport(tn.addr)
	c.heal(tn)
	c.open(tn, false)
}

func (c *testCluster) close() {
	for _, tn := range c.nodes {
		c.stop(tn)
	}
}

// leader waits for a leader among the running nodes and returns it.
func (c *testCluster) leader() *tnode {
	c.t.Helper()
	var found *tnode
	eventually(c.t, 10*time.Second, "a leader", func() bool {
		for _, tn := range c.nodes {
			if !tn.closed && tn.n.IsLeader() {
				found = tn
				return true
			}
		}
		return false
	})
	return found
}

func (c *testCluster) waitServing(nodes ...*tnode) {
	c.t.Helper()
	for _, tn := range nodes {
		eventually(c.t, 10*time.Second, tn.id+" serving", tn.n.Serving)
	}
}

func (c *testCluster) others(tn *tnode) []*tnode {
	var out []*tnode
	for _, o := range c.nodes {
		if o != tn && !o.closed {
			out = append(out, o)
		}
	}
	return out
}

var requestSeq atomic.Uint64

// propose commits cmd through whichever node leads, retrying while a
// leader change makes that impossible (a loaded machine can lose a leader
// mid-test). A request id makes the retry of an ambiguous commit safe.
func (c *testCluster) propose(cmd control.Command) control.Result {
	c.t.Helper()
	if cmd.RequestID == "" {
		cmd.RequestID = fmt.Sprintf("test-%d", requestSeq.Add(1))
	}
	var res control.Result
	c.retry(string(cmd.Op), func(n *Node) error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var err error
		res, err = n.Propose(ctx, cmd)
		return err
	})
	return res
}

// apply is propose that fails the test on a domain error too.
func (c *testCluster) apply(cmd control.Command) control.Result {
	c.t.Helper()
	res := c.propose(cmd)
	if res.Err != nil {
		c.t.Fatalf("apply %s: %v", cmd.Op, res.Err)
	}
	return res
}

// retry runs f on the leader until it succeeds or fails for another
// reason than a leader change.
func (c *testCluster) retry(what string, f func(*Node) error) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := f(c.leader().n)
		if err == nil {
			return
		}
		code := control.CodeOf(err)
		if (code != control.CodeNoLeader && code != control.CodeNotLeader) || time.Now().After(deadline) {
			c.t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
