package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// The API's handler tests run against apitest.Backend. These cases run the
// same calls against that double and against a real in-process cluster, so
// that the double cannot drift from what a node does (it once reported a
// timed-out wait as complete while the node returned the error, or the
// other way round).

// contractFixture is one implementation under test: a leader, a follower
// of the same cluster, and a way to make one member stop applying.
type contractFixture struct {
	leader   func() api.Backend
	follower func() api.Backend
	lag      func() string // stops one member applying; returns its id
}

func realFixture(t *testing.T) contractFixture {
	c := newTestCluster(t, 3)
	return contractFixture{
		leader: func() api.Backend { return c.leader().n },
		follower: func() api.Backend {
			return c.others(c.leader())[0].n
		},
		lag: func() string {
			tn := c.others(c.leader())[0]
			c.isolate(tn)
			return tn.id
		},
	}
}

func doubleFixture(*testing.T) contractFixture {
	leader := apitest.New()
	follower := apitest.New()
	follower.SetFollower("http://127.0.0.1:8053")
	return contractFixture{
		leader:   func() api.Backend { return leader },
		follower: func() api.Backend { return follower },
		lag: func() string {
			leader.SetLagging("n3")
			return "n3"
		},
	}
}

var contractCases = []struct {
	name string
	run  func(t *testing.T, f contractFixture)
}{
	{"a committed write is applied and confirmed on every member", func(t *testing.T, f contractFixture) {
		b := f.leader()
		idx := mustPropose(t, b, zonePut())
		idx = max(idx, mustPropose(t, b, servicePut()))
		if got := b.Applied(); got < idx {
			t.Fatalf("Applied() = %d after a write committed at %d", got, idx)
		}
		if b.State().Service(testSvc) == nil {
			t.Fatal("State() does not hold the service just written")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		nodes, err := b.WaitApplied(ctx, idx)
		if err != nil {
			t.Fatalf("WaitApplied with every member up: %v", err)
		}
		if len(nodes) != 3 {
			t.Fatalf("WaitApplied returned %d members, want 3", len(nodes))
		}
		for _, n := range nodes {
			if n.Applied < idx {
				t.Errorf("member %s reported at %d, below %d, yet the wait succeeded", n.ID, n.Applied, idx)
			}
		}
		if w := b.RetireWaiting(ctx, idx); len(w) != 0 {
			t.Errorf("RetireWaiting = %v with every member caught up", w)
		}
		if err := b.Ready(); err != nil || !b.Serving() || b.Stale() {
			t.Errorf("healthy leader: Ready=%v Serving=%v Stale=%v", err, b.Serving(), b.Stale())
		}
	}},
	{"a wait that runs out returns the error and names the lagging member", func(t *testing.T, f contractFixture) {
		b := f.leader()
		mustPropose(t, b, zonePut())
		id := f.lag()
		idx := mustPropose(t, b, servicePut())
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		nodes, err := b.WaitApplied(ctx, idx)
		if err == nil {
			t.Fatal("WaitApplied returned nil although a member cannot apply: a pipeline would be told \"complete\"")
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitApplied error = %v, want the context's deadline", err)
		}
		i := slices.IndexFunc(nodes, func(n peer.NodeStatus) bool { return n.ID == id })
		if i < 0 {
			t.Fatalf("WaitApplied statuses %v do not list the lagging member %s", nodes, id)
		}
		if nodes[i].Applied >= idx {
			t.Errorf("lagging member %s reported applied %d >= %d", id, nodes[i].Applied, idx)
		}
		if w := b.RetireWaiting(context.Background(), idx); !slices.Contains(w, id) {
			t.Errorf("RetireWaiting = %v, want it to name %s", w, id)
		}
	}},
	{"a follower refuses writes naming the leader", func(t *testing.T, f contractFixture) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := f.follower().Propose(ctx, zonePut())
		var ce *control.Error
		if !errors.As(err, &ce) || ce.Code != control.CodeNotLeader {
			t.Fatalf("Propose on a follower: %v, want %s", err, control.CodeNotLeader)
		}
		if ce.Leader == "" {
			t.Error("the not-leader error does not name the leader's API address")
		}
		if _, err := f.follower().ReadIndex(ctx); !errors.As(err, &ce) || ce.Code != control.CodeNotLeader {
			t.Errorf("ReadIndex on a follower: %v, want %s", err, control.CodeNotLeader)
		}
	}},
	{"a cancelled write is not applied", func(t *testing.T, f contractFixture) {
		b := f.leader()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.Propose(ctx, zonePut()); err == nil {
			t.Fatal("Propose with a cancelled context succeeded")
		}
		if b.State().Zone(testZone) != nil {
			t.Error("a write whose context was cancelled before it was sent is in the state")
		}
	}},
	{"a domain error is a result, not a failure, and takes no revision", func(t *testing.T, f contractFixture) {
		b := f.leader()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := b.Propose(ctx, servicePut()) // its zone does not exist
		if err != nil {
			t.Fatalf("Propose: %v", err)
		}
		if res.Err == nil {
			t.Fatal("a service in a zone that does not exist was accepted")
		}
		if b.State().Service(testSvc) != nil {
			t.Error("the refused service is in the state")
		}
	}},
}

func mustPropose(t *testing.T, b api.Backend, cmd control.Command) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := b.Propose(ctx, cmd)
	if err != nil {
		t.Fatalf("Propose %s: %v", cmd.Op, err)
	}
	if res.Err != nil {
		t.Fatalf("Propose %s: %v", cmd.Op, res.Err)
	}
	return res.Index
}

func TestBackendContract(t *testing.T) {
	for _, impl := range []struct {
		name string
		make func(*testing.T) contractFixture
	}{{"double", doubleFixture}, {"node", realFixture}} {
		for _, tc := range contractCases {
			t.Run(impl.name+"/"+tc.name, func(t *testing.T) { tc.run(t, impl.make(t)) })
		}
	}
}
