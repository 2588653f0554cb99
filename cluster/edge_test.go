package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// addEdge starts a new node and joins it to c as an edge (a non-voter).
func (c *testCluster) addEdge(id string) *tnode {
	c.t.Helper()
	tn := newTNode(c.t, id)
	c.nodes = append(c.nodes, tn)
	c.connectAll()
	c.open(tn, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := peer.JoinRequest{ID: tn.id, RaftAddr: string(tn.addr), HTTPAddr: tn.url, DNSAddr: "127.0.0.1:53", Role: peer.RoleEdge,
		NSName: c.config(tn, false).NSName}
	c.retry("join edge "+id, func(n *Node) error { return n.Join(ctx, req) })
	c.waitServing(tn)
	return tn
}

func roleIn(sts []peer.NodeStatus, id string) (string, bool) {
	for _, s := range sts {
		if s.ID == id {
			return s.Role, s.Voter
		}
	}
	return "", false
}

// TestEdgeJoinsAsNonVoter: an edge is a non-voter in the configuration,
// listed with role edge, applies and serves every write, and refuses
// writes as a follower does (so the API forwards them to the leader).
func TestEdgeJoinsAsNonVoter(t *testing.T) {
	c := newTestCluster(t, 3)
	e := c.addEdge("e1")
	for _, s := range e.n.configuration() {
		if string(s.ID) == e.id && s.Suffrage != raft.Nonvoter {
			t.Fatalf("edge in the configuration as %v", s.Suffrage)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st := c.leader().n.Status(ctx)
	if len(st.Members) != 4 {
		t.Fatalf("status lists %d members, want 4: %+v", len(st.Members), st.Members)
	}
	for _, m := range st.Members {
		want := peer.RoleVoter
		if m.ID == e.id {
			want = peer.RoleEdge
		}
		if m.Role != want || m.Voter != (want == peer.RoleVoter) {
			t.Errorf("%s listed as role %q voter %v, want %s", m.ID, m.Role, m.Voter, want)
		}
	}
	if self := e.n.Self(); self.Role != peer.RoleEdge || self.Voter {
		t.Errorf("edge's own status: role %q voter %v", self.Role, self.Voter)
	}
	setupService(t, c)
	res := c.apply(lifecycle(control.OpSwitch))
	eventually(t, 5*time.Second, "the edge applied the switch", func() bool { return e.n.Applied() >= res.Index })
	if got := activeOf(e.n.State()); got != control.Green {
		t.Fatalf("edge serves %s after the switch", got)
	}
	_, err := e.n.Propose(ctx, lifecycle(control.OpRollback))
	if control.CodeOf(err) != control.CodeNotLeader {
		t.Fatalf("propose on the edge: %v, want not leader", err)
	}
	if err := e.n.Confirm(ctx); err != nil {
		t.Fatalf("edge confirms with the leader: %v", err)
	}
}

// TestJoinRefusesRoleChange: a member joining again with the other role
// is refused, both ways, and keeps its role.
func TestJoinRefusesRoleChange(t *testing.T) {
	c := newTestCluster(t, 2)
	e := c.addEdge("e1")
	l := c.leader()
	v := c.others(l)[0]
	if v == e {
		v = c.others(l)[1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := l.n.Join(ctx, peer.JoinRequest{ID: e.id, RaftAddr: string(e.addr), HTTPAddr: e.url})
	if control.CodeOf(err) != control.CodeConflict {
		t.Errorf("edge joining again as a voter: %v, want conflict", err)
	}
	err = l.n.Join(ctx, peer.JoinRequest{ID: v.id, RaftAddr: string(v.addr), HTTPAddr: v.url, Role: peer.RoleEdge})
	if control.CodeOf(err) != control.CodeConflict {
		t.Errorf("voter joining again as an edge: %v, want conflict", err)
	}
	if err := l.n.Join(ctx, peer.JoinRequest{ID: e.id, RaftAddr: string(e.addr), HTTPAddr: e.url, NonVoter: true}); err != nil {
		t.Errorf("edge joining again as an edge: %v", err)
	}
	for _, s := range l.n.configuration() {
		want := raft.Voter
		if string(s.ID) == e.id {
			want = raft.Nonvoter
		}
		if s.Suffrage != want {
			t.Errorf("%s is %v, want %v", s.ID, s.Suffrage, want)
		}
	}
}

// TestWaitAppliedCountsEdges: wait=all waits for an edge that has not
// applied the index (and names it), and stops waiting for it once it is
// removed. The retire watermark waits for it the same way.
func TestWaitAppliedCountsEdges(t *testing.T) {
	c := newTestCluster(t, 3)
	e := c.addEdge("e1")
	setupService(t, c)
	c.isolate(e)
	c.peers.Register(e.url, nil)
	res := c.apply(lifecycle(control.OpSwitch))

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	sts, err := c.leader().n.WaitApplied(ctx, res.Index)
	cancel()
	if err == nil {
		t.Fatalf("wait=all complete with the edge cut off: %+v", sts)
	}
	if role, _ := roleIn(sts, e.id); role != peer.RoleEdge {
		t.Fatalf("wait=all does not list the edge: %+v", sts)
	}
	for _, s := range sts {
		if (s.Applied < res.Index) != (s.ID == e.id) {
			t.Errorf("%s applied %d, switch at %d", s.ID, s.Applied, res.Index)
		}
	}
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
	waiting := c.leader().n.RetireWaiting(ctx, res.Index)
	cancel()
	if !slices.Equal(waiting, []string{e.id}) {
		t.Fatalf("retire waits for %v, want [%s]", waiting, e.id)
	}
	if _, pending := serviceOf(c.leader()).PendingRetire(); !pending {
		t.Fatal("retire watermark confirmed while the edge is cut off")
	}

	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.retry("remove edge", func(n *Node) error { return n.Remove(ctx, e.id) })
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	sts, err = c.leader().n.WaitApplied(wctx, res.Index)
	wcancel()
	if err != nil || len(sts) != 3 {
		t.Fatalf("wait=all after the edge's removal: %v %+v", err, sts)
	}
	if role, _ := roleIn(sts, e.id); role != "" {
		t.Fatalf("removed edge still listed: %+v", sts)
	}
	eventually(t, 10*time.Second, "retire confirmed without the removed edge", func() bool {
		_, pending := serviceOf(c.leader()).PendingRetire()
		return !pending
	})
}

// TestEdgeNeverLeads: when the leader is lost, a voter takes over; the
// edge keeps following and serving the new leader's writes.
func TestEdgeNeverLeads(t *testing.T) {
	c := newTestCluster(t, 3)
	e := c.addEdge("e1")
	setupService(t, c)
	old := c.leader()
	c.crash(old)
	nl := c.leader()
	if nl == e || e.n.IsLeader() {
		t.Fatal("the edge became leader")
	}
	if voter, _ := nl.n.selfVoter(); !voter {
		t.Fatalf("new leader %s is not a voter", nl.id)
	}
	res := c.apply(lifecycle(control.OpSwitch))
	eventually(t, 5*time.Second, "the edge applied the new leader's switch", func() bool { return e.n.Applied() >= res.Index })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.n.Confirm(ctx); err != nil {
		t.Fatalf("edge confirms with the new leader: %v", err)
	}
}

// TestDecideDivergenceEdgeDoesNotCountItself: a voter counts itself as
// agreeing with its own chain; an edge does not, so the voters alone
// decide whether the edge's log is the odd one.
func TestDecideDivergenceEdgeDoesNotCountItself(t *testing.T) {
	split := []verdict{{id: "n1", agree: true}, {id: "n2", agree: false, leader: true}}
	if d, _, agree, _ := decideDivergence(true, split); d || agree != 2 {
		t.Errorf("voter with one of two peers agreeing: diverged %v, agree %d", d, agree)
	}
	if d, first, agree, _ := decideDivergence(false, split); !d || agree != 1 || first == nil || first.id != "n2" {
		t.Errorf("edge with the leader disagreeing on a tie: diverged %v, agree %d, first %+v", d, agree, first)
	}
	tieNoLeader := []verdict{{id: "n1", agree: true, leader: true}, {id: "n2", agree: false}}
	if d, _, _, _ := decideDivergence(false, tieNoLeader); d {
		t.Error("edge diverged on a tie where the leader agrees")
	}
	if d, _, _, _ := decideDivergence(false, nil); d {
		t.Error("edge diverged with no verdict")
	}
	allAgainst := []verdict{{id: "n1"}, {id: "n2"}, {id: "n3", leader: true}}
	if d, _, _, disagree := decideDivergence(false, allAgainst); !d || disagree != 3 {
		t.Errorf("edge every voter disagrees with: diverged %v, disagree %d", d, disagree)
	}
}

// TestDivergedEdgeStopsServing: an edge whose applied log differs from
// the voters' finds it out by comparing its chain with theirs and stops
// serving; the voters, who never ask an edge, keep serving.
func TestDivergedEdgeStopsServing(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.DivergenceCheck = 50 * time.Millisecond
		cfg.NoSnapshotOnShutdown = true
	})
	e := c.addEdge("e1")
	c.apply(zonePut())
	c.apply(servicePut())
	c.apply(deploy("2.0", "10.0.0.21"))
	eventually(t, 5*time.Second, "the edge applied the deploy", func() bool {
		svc := e.n.State().Service(testSvc)
		return svc != nil && svc.Green != nil
	})
	c.stop(e)
	idx, err := lastCommandAtOrBelow(e.logs, mustLastIndex(t, e.logs))
	if err != nil || idx == 0 {
		t.Fatalf("last command: %d, %v", idx, err)
	}
	var l raft.Log
	if err := e.logs.GetLog(idx, &l); err != nil {
		t.Fatal(err)
	}
	if l.Data, err = encodeCommandEntry(deploy("6.6.6", "203.0.113.66")); err != nil {
		t.Fatal(err)
	}
	if err := e.logs.StoreLog(&l); err != nil {
		t.Fatal(err)
	}
	c.restart(e)
	eventually(t, 10*time.Second, "the edge finds itself diverged", func() bool { return e.n.Diverged() != nil })
	if e.n.Serving() {
		t.Fatal("diverged edge still serving")
	}
	if got := e.n.State().Service(testSvc).Green.Version; got != "6.6.6" {
		t.Fatalf("the forged entry was not applied (green %q): no divergence was made", got)
	}
	c.apply(lifecycle(control.OpSwitch))
	for _, o := range c.others(e) {
		if o.n.Diverged() != nil || !o.n.Serving() {
			t.Fatalf("%s: diverged %v, serving %v", o.id, o.n.Diverged(), o.n.Serving())
		}
	}
}

// TestEdgeRestartedWithNewAddressStaysEdge: an edge restarted with
// another API address sends its new address to the leader itself, as an
// edge: the metadata follows and it does not become a voter.
func TestEdgeRestartedWithNewAddressStaysEdge(t *testing.T) {
	c := newTestCluster(t, 3)
	e := c.addEdge("e1")
	c.stop(e)
	e.url = "http://e1-moved.test:8053"
	c.restart(e)
	eventually(t, 15*time.Second, "the edge's new address recorded", func() bool {
		return c.leader().n.fsm.Members()[e.id].HTTPAddr == e.url
	})
	for _, s := range c.leader().n.configuration() {
		if string(s.ID) == e.id && s.Suffrage != raft.Nonvoter {
			t.Fatalf("restarted edge is %v in the configuration", s.Suffrage)
		}
	}
	c.waitServing(e)
}
