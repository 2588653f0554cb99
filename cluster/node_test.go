package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func fastTimeouts(c *Config) {
	c.HeartbeatTimeout = 300 * time.Millisecond
	c.ElectionTimeout = 300 * time.Millisecond
	c.LeaderLeaseTimeout = 150 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
}

type applyRecord struct {
	index   uint64
	serving bool
}

// TestSingleNodeRestart runs one node on real bolt stores and a TCP
// transport: it survives a restart with every change, and it does not
// serve until it has re-applied the log it had at boot.
func TestSingleNodeRestart(t *testing.T) {
	dir, raftAddr := t.TempDir(), freeAddr(t)
	cfg := Config{NodeID: "n1", DataDir: dir, RaftAddr: raftAddr, HTTPAddr: "http://127.0.0.1:1",
		DNSAddr: "127.0.0.1:2", Bootstrap: true, Logger: testLogger(), MaxStale: time.Second,
		NoSnapshotOnShutdown: true}
	fastTimeouts(&cfg)
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "serving after bootstrap", n.Serving)
	if err := n.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	mustApply(t, n, zonePut())
	mustApply(t, n, servicePut())
	cycle := func(i int) {
		mustApply(t, n, deploy(fmt.Sprintf("%d.0", i), fmt.Sprintf("10.0.1.%d", i)))
		mustApply(t, n, lifecycle(control.OpSwitch))
		mustApply(t, n, lifecycle(control.OpComplete))
	}
	for i := 2; i < 12; i++ {
		cycle(i)
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	for i := 12; i < 30; i++ {
		cycle(i)
	}
	// The node commits its own member metadata by itself: wait for it
	// before taking the state to compare with.
	eventually(t, 5*time.Second, "own member metadata", func() bool { return n.fsm.Members()["n1"].HTTPAddr != "" })
	settled(t, n)
	want, _ := control.MarshalState(n.State())
	applied := n.Applied()
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	// Reopen without bootstrap; slow the FSM down so the replay spans
	// several readiness ticks, and record whether the node served during it.
	var (
		mu      sync.Mutex
		records []applyRecord
		cur     atomic.Pointer[Node]
	)
	cfg.Bootstrap = false
	cfg.OnChange = func(s *control.State) {
		time.Sleep(3 * time.Millisecond)
		serving := false
		if p := cur.Load(); p != nil {
			serving = p.Serving()
		}
		mu.Lock()
		records = append(records, applyRecord{s.Index(), serving})
		mu.Unlock()
	}
	n2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cur.Store(n2)
	t.Cleanup(func() { n2.Shutdown(context.Background()) })
	if n2.bootTarget != applied {
		t.Errorf("boot index %d, want %d", n2.bootTarget, applied)
	}
	if n2.Serving() || n2.Ready() == nil {
		t.Error("serving right after a restart")
	}
	eventually(t, 10*time.Second, "serving after restart", n2.Serving)
	if a := n2.Applied(); a < applied {
		t.Errorf("serving at applied %d below the boot index %d", a, applied)
	}
	eventually(t, 10*time.Second, "replay", func() bool { return n2.Applied() >= applied })
	got, _ := control.MarshalState(n2.State())
	if !bytes.Equal(want, got) {
		t.Errorf("state after restart differs:\nwant %s\ngot  %s", want, got)
	}
	if h, _ := n2.State().History(testSvc, 0); len(h) != 1+3*28 {
		t.Errorf("history has %d records, want %d", len(h), 1+3*28)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(records) < 20 {
		t.Fatalf("only %d changes replayed; the test needs a log tail to replay", len(records))
	}
	for _, r := range records {
		if r.index < applied && r.serving {
			t.Fatalf("served while replaying index %d (boot index %d)", r.index, applied)
		}
	}
}

// TestProposeOnFollower: a follower refuses writes and names the leader.
func TestProposeOnFollower(t *testing.T) {
	c := newTestCluster(t, 3)
	leader := c.leader()
	mustApply(t, leader.n, zonePut())
	for _, tn := range c.nodes {
		if tn == leader {
			continue
		}
		_, err := tn.n.Propose(context.Background(), servicePut())
		var e *control.Error
		if !errors.As(err, &e) || e.Code != control.CodeNotLeader {
			t.Fatalf("%s: got %v, want not_leader", tn.id, err)
		}
		if e.Leader != leader.url {
			t.Errorf("%s: leader address %q, want %q", tn.id, e.Leader, leader.url)
		}
		if err := tn.n.Join(context.Background(), peer.JoinRequest{ID: "x", RaftAddr: "127.0.0.1:9"}); control.CodeOf(err) != control.CodeNotLeader {
			t.Errorf("%s: join on a follower: %v", tn.id, err)
		}
	}
}

// A data dir held by a running node cannot be opened a second time: Open
// fails instead of waiting for the lock forever.
func TestOpenLockedDataDir(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{NodeID: "n1", DataDir: dir, RaftAddr: freeAddr(t), Bootstrap: true, Logger: testLogger()}
	fastTimeouts(&cfg)
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	cfg.RaftAddr = freeAddr(t)
	if n2, err := Open(cfg); err == nil {
		n2.Shutdown(context.Background())
		t.Fatal("opened a data dir in use")
	}
}

func TestRaftConfigIsValid(t *testing.T) {
	for _, c := range []Config{
		{NodeID: "n1", RaftAddr: "127.0.0.1:1", DataDir: "x"},
		{NodeID: "n1", RaftAddr: "127.0.0.1:1", DataDir: "x", HeartbeatTimeout: 2 * time.Second},
		{NodeID: "n1", RaftAddr: "127.0.0.1:1", DataDir: "x", LeaderLeaseTimeout: time.Second, HeartbeatTimeout: 100 * time.Millisecond},
	} {
		if err := c.setDefaults(); err != nil {
			t.Fatal(err)
		}
		if err := raft.ValidateConfig(c.raftConfig()); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	for _, c := range []Config{{}, {NodeID: "n1"}, {NodeID: "n1", RaftAddr: "nope", DataDir: "x"}, {NodeID: "n1", RaftAddr: "127.0.0.1:1"}} {
		if err := c.setDefaults(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
