package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// setupService creates the zone and a service with blue active and green
// deployed, on the leader.
func setupService(t *testing.T, c *testCluster) *tnode {
	t.Helper()
	l := c.leader()
	c.apply(zonePut())
	c.apply(servicePut())
	c.apply(deploy("2.0", "10.0.0.21"))
	return l
}

func waitActive(t *testing.T, tn *tnode, want control.Colour) {
	t.Helper()
	eventually(t, 5*time.Second, tn.id+" active "+string(want), func() bool { return activeOf(tn.n.State()) == want })
}

func TestSwitchAppliedEverywhere(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	res := c.apply(lifecycle(control.OpSwitch))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sts, err := l.n.WaitApplied(ctx, res.Index)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != 3 {
		t.Fatalf("WaitApplied returned %d voters, want 3: %+v", len(sts), sts)
	}
	for _, s := range sts {
		if s.Applied < res.Index || !s.Reachable {
			t.Errorf("%s: applied %d of %d, reachable %v (%s)", s.ID, s.Applied, res.Index, s.Reachable, s.Error)
		}
	}
	// WaitApplied returned, so every FSM has it now: no polling.
	for _, tn := range c.nodes {
		if got := activeOf(tn.n.State()); got != control.Green {
			t.Errorf("%s serves %q after wait=all, want green", tn.id, got)
		}
	}
	st := c.nodes[2].n.Status(ctx)
	if st.LeaderID != l.id || st.LeaderHTTP != l.url || len(st.Members) != 3 {
		t.Fatalf("status from a follower: %+v", st)
	}
	leaders := 0
	for _, m := range st.Members {
		if m.Leader {
			leaders++
		}
		if !m.Voter || !m.Reachable || m.HTTPAddr == "" || m.Applied < res.Index || !m.Serving {
			t.Errorf("member %+v", m)
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders in status", leaders)
	}
}

func TestWaitAppliedReportsLaggingNode(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	lag := c.others(l)[0]
	c.isolate(lag)
	res := c.apply(lifecycle(control.OpSwitch))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sts, err := l.n.WaitApplied(ctx, res.Index)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a wait that ran out: err %v, want the deadline", err)
	}
	behind := 0
	for _, s := range sts {
		if s.Applied < res.Index {
			behind++
			if s.ID != lag.id {
				t.Errorf("%s reported behind", s.ID)
			}
		}
	}
	if behind != 1 {
		t.Errorf("%d nodes behind, want 1: %+v", behind, sts)
	}
	c.heal(lag)
	waitActive(t, lag, control.Green)
}

func TestLeaderLossThenRollback(t *testing.T) {
	c := newTestCluster(t, 3)
	setupService(t, c)
	c.apply(lifecycle(control.OpSwitch))
	for _, tn := range c.nodes {
		waitActive(t, tn, control.Green)
	}
	old := c.leader()
	c.crash(old)
	l := c.leader()
	if l == old {
		t.Fatal("the crashed node still leads")
	}
	res := c.apply(lifecycle(control.OpRollback))
	// The crashed node is still a voter: WaitApplied runs into its deadline
	// and reports it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sts, _ := l.n.WaitApplied(ctx, res.Index)
	for _, s := range sts {
		if s.ID == old.id {
			if s.Reachable {
				t.Errorf("crashed node reported reachable")
			}
			continue
		}
		if s.Applied < res.Index {
			t.Errorf("%s: applied %d of %d", s.ID, s.Applied, res.Index)
		}
	}
	for _, tn := range c.others(old) {
		if got := activeOf(tn.n.State()); got != control.Blue {
			t.Errorf("%s active %q after rollback", tn.id, got)
		}
	}
	// The old leader comes back and never serves green again.
	c.restart(old)
	deadline := time.Now().Add(5 * time.Second)
	for !old.n.Serving() || old.n.Applied() < res.Index {
		if old.n.Serving() && activeOf(old.n.State()) != control.Blue {
			t.Fatalf("restarted old leader serves %q", activeOf(old.n.State()))
		}
		if time.Now().After(deadline) {
			t.Fatal("old leader did not catch up")
		}
		time.Sleep(time.Millisecond)
	}
	waitActive(t, old, control.Blue)
}

// TestPartitionedFollowerServesStale: under the default stale policy a
// cut-off follower keeps serving its last applied state, labelled stale,
// once its last confirmation is older than max stale; healed, it catches
// up and is current again.
func TestPartitionedFollowerServesStale(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	f := c.others(l)[0]
	eventually(t, 5*time.Second, f.id+" applied the setup", func() bool { return f.n.Applied() >= l.n.Applied() })
	c.isolate(f)
	c.peers.Register(f.url, nil) // cut off from the API calls too
	cut := time.Now()
	eventually(t, 5*time.Second, f.id+" stale", f.n.Stale)
	if since := time.Since(cut); since < f.n.cfg.MaxStale/2 {
		t.Errorf("stale %s after the partition, before max stale %s", since, f.n.cfg.MaxStale)
	}
	if !f.n.Serving() || f.n.Ready() == nil {
		t.Fatalf("stale node: serving %v, ready %v", f.n.Serving(), f.n.Ready())
	}
	if activeOf(f.n.State()) != control.Blue {
		t.Fatal("stale node lost its state")
	}
	// The majority goes on.
	res := c.apply(lifecycle(control.OpSwitch))
	c.heal(f)
	c.peers.Register(f.url, f.n)
	eventually(t, 5*time.Second, f.id+" current again", func() bool { return f.n.Serving() && !f.n.Stale() })
	if f.n.Applied() < res.Index {
		t.Fatalf("current again at applied %d before the switch at %d was applied", f.n.Applied(), res.Index)
	}
	waitActive(t, f, control.Green)
}

// TestPartitionedFollowerStopsServingUnderServfail: with the stale policy
// servfail, the same follower stops serving instead.
func TestPartitionedFollowerStopsServingUnderServfail(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.StalePolicy = StaleServfail })
	l := setupService(t, c)
	f := c.others(l)[0]
	c.isolate(f)
	c.peers.Register(f.url, nil)
	cut := time.Now()
	eventually(t, 5*time.Second, f.id+" not serving", func() bool { return !f.n.Serving() })
	if since := time.Since(cut); since < f.n.cfg.MaxStale/2 {
		t.Errorf("stopped serving %s after the partition, before max stale %s", since, f.n.cfg.MaxStale)
	}
	if f.n.Stale() || f.n.Ready() == nil {
		t.Fatalf("stale %v, ready %v", f.n.Stale(), f.n.Ready())
	}
	res := c.apply(lifecycle(control.OpSwitch))
	c.heal(f)
	c.peers.Register(f.url, f.n)
	eventually(t, 5*time.Second, f.id+" serving again", f.n.Serving)
	if f.n.Applied() < res.Index {
		t.Fatalf("serving again at applied %d before the switch at %d was applied", f.n.Applied(), res.Index)
	}
}

// TestHeartbeatWithoutLogIsNotCurrent: a follower that hears the leader
// but cannot confirm with it (its API unreachable) turns stale: hearing a
// heartbeat is not being current.
func TestHeartbeatWithoutLogIsNotCurrent(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	f := c.others(l)[0]
	c.peers.Register(l.url, nil) // raft still reaches it; confirmations do not
	eventually(t, 5*time.Second, f.id+" stale while it still hears heartbeats", f.n.Stale)
	if lc := f.n.raft.LastContact(); time.Since(lc) > f.n.cfg.MaxStale {
		t.Fatalf("the follower lost raft contact too (%s ago): the test proves nothing", time.Since(lc))
	}
	c.peers.Register(l.url, l.n)
	eventually(t, 5*time.Second, f.id+" current again", func() bool { return !f.n.Stale() })
}

func TestCatchUpFromSnapshot(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold = 8
		cfg.TrailingLogs = 4
		cfg.SnapshotInterval = 50 * time.Millisecond
	})
	l := setupService(t, c)
	lag := c.others(l)[0]
	lagLast := lag.n.raft.LastIndex()
	c.stop(lag)
	var last control.Result
	for i := 0; i < 10; i++ {
		last = c.apply(lifecycle(control.OpSwitch))
		last = c.apply(lifecycle(control.OpComplete))
		c.apply(deploy("3.0", "10.0.0.31"))
	}
	// Make sure the log the lagging node needs is gone from the leader.
	if err := l.n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "log compaction", func() bool {
		first, _ := l.logs.FirstIndex()
		return first > lag.n.Applied()+1
	})
	c.restart(lag)
	eventually(t, 10*time.Second, "lagging node caught up", func() bool { return lag.n.Applied() >= last.Index })
	c.waitServing(lag)
	snaps, err := lag.snaps.List()
	if err != nil || len(snaps) == 0 || snaps[0].Index <= lagLast {
		t.Fatalf("no snapshot from the leader installed on the lagging node (last index before the stop %d): %v %+v", lagLast, err, snaps)
	}
	// The leader keeps committing on its own (the restarted node's member
	// metadata, retire confirmations): compare with its state as it is.
	eventually(t, 10*time.Second, "same state", func() bool {
		want, _ := control.MarshalState(l.n.State())
		got, _ := control.MarshalState(lag.n.State())
		return string(got) == string(want)
	})
	if m := lag.n.fsm.Members(); len(m) != 3 {
		t.Errorf("members after snapshot install: %+v", m)
	}
}

func TestNewNodeJoinsFromSnapshot(t *testing.T) {
	c := newTestCluster(t, 2, func(cfg *Config) {
		cfg.SnapshotThreshold = 4
		cfg.TrailingLogs = 2
	})
	l := setupService(t, c)
	res := c.apply(lifecycle(control.OpSwitch))
	if err := l.n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "log compaction", func() bool { first, _ := l.logs.FirstIndex(); return first > 2 })
	tn := newTNode(t, "z1")
	c.nodes = append(c.nodes, tn)
	c.heal(tn)
	c.open(tn, false)
	if tn.n.Serving() {
		t.Fatal("a node that has not joined serves")
	}
	c.join(tn)
	c.waitServing(tn)
	if tn.n.Applied() < res.Index || activeOf(tn.n.State()) != control.Green {
		t.Errorf("serving at applied %d (switch at %d), active %q", tn.n.Applied(), res.Index, activeOf(tn.n.State()))
	}
}

func TestPreconditionAfterFailover(t *testing.T) {
	c := newTestCluster(t, 3)
	old := setupService(t, c)
	rev := old.n.State().Service(testSvc).Revision
	sw := lifecycle(control.OpSwitch)
	sw.ExpectRevision = rev
	res := c.apply(sw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	old.n.WaitApplied(ctx, res.Index)
	old = c.leader()
	c.crash(old)
	if c.leader() == old {
		t.Fatal("the crashed node still leads")
	}
	// A client that read the revision before the switch retries its own
	// stale precondition against the new leader: refused.
	rb := lifecycle(control.OpRollback)
	rb.ExpectRevision = rev
	got := c.propose(rb)
	if got.Err == nil || got.Err.Code != control.CodeConflict || got.Err.Service == nil || got.Err.Service.Revision != res.Index {
		t.Fatalf("stale expect_revision on the new leader: %+v (err %v)", got, got.Err)
	}
	// The current revision is accepted.
	rb.ExpectRevision = res.Index
	if r := c.apply(rb); r.Service.Active != control.Blue {
		t.Errorf("rollback: %+v", r.Service)
	}
}

func TestRequestIDAcrossFailover(t *testing.T) {
	c := newTestCluster(t, 3)
	old := setupService(t, c)
	sw := lifecycle(control.OpSwitch)
	sw.RequestID = "deploy-42-switch"
	first := c.apply(sw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	old.n.WaitApplied(ctx, first.Index)
	old = c.leader()
	c.crash(old)
	again := c.apply(sw)
	if !again.Duplicate || again.Index != first.Index {
		t.Errorf("retry on the new leader: %+v, first %+v", again, first)
	}
}

func TestRemoveStopsServing(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	gone := c.others(l)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.retry("remove", func(n *Node) error { return n.Remove(ctx, gone.id) })
	eventually(t, 5*time.Second, "removed node not serving", func() bool { return !gone.n.Serving() })
	if _, ok := c.leader().n.fsm.Members()[gone.id]; ok {
		t.Error("metadata of the removed node kept")
	}
	if err := c.leader().n.Remove(ctx, gone.id); control.CodeOf(err) != control.CodeNotFound {
		t.Errorf("second remove: %v", err)
	}
	st := l.n.Status(ctx)
	if len(st.Members) != 2 {
		t.Errorf("members after remove: %+v", st.Members)
	}
	// The two left still commit.
	c.apply(lifecycle(control.OpSwitch))
}

func TestLeaderHandsOverOnShutdown(t *testing.T) {
	c := newTestCluster(t, 3)
	setupService(t, c)
	old := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := old.n.StepDown(ctx); err != nil {
		t.Fatal(err)
	}
	if old.n.Serving() || old.n.IsLeader() {
		t.Fatal("still serving or leading after StepDown")
	}
	// Writes that still reach the old leader's API are sent to the new one.
	eventually(t, 5*time.Second, "a write on the old leader names the new one", func() bool {
		_, err := old.n.Propose(ctx, lifecycle(control.OpSwitch))
		return control.CodeOf(err) == control.CodeNotLeader
	})
	c.stop(old)
	if c.leader() == old {
		t.Fatal("a stopped node leads")
	}
	c.apply(lifecycle(control.OpSwitch))
}

func TestRestartWithNewAPIAddress(t *testing.T) {
	c := newTestCluster(t, 3)
	l := c.leader()
	f := c.others(l)[0]
	c.stop(f)
	f.url = "http://" + f.id + "-moved.test:8053"
	c.restart(f)
	eventually(t, 10*time.Second, "the leader learns the new API address", func() bool {
		return l.n.fsm.Members()[f.id].HTTPAddr == f.url
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := c.apply(zonePut())
	sts, _ := l.n.WaitApplied(ctx, res.Index)
	for _, s := range sts {
		if s.Applied < res.Index || !s.Reachable {
			t.Errorf("%+v", s)
		}
	}
}
