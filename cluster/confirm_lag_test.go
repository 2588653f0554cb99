package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// A follower whose state machine lags behind what raft handed it (raft's
// applied index counts entries queued for the FSM, not applied ones) must
// not confirm itself as current until the FSM has applied the leader's
// commit index: it would answer DNS as current with an older state.
func TestConfirmWaitsForTheStateMachine(t *testing.T) {
	var block atomic.Bool
	gate := make(chan struct{})
	c := newTestCluster(t, 3, func(cfg *Config) {
		if cfg.NodeID == "c1" {
			cfg.OnChange = func(*control.State) {
				if block.Load() {
					<-gate
				}
			}
		}
	})
	setupService(t, c)
	var f *tnode
	for _, tn := range c.nodes {
		if tn.id == "c1" {
			f = tn
		}
	}
	if f == c.leader() {
		c.leader().n.StepDown(context.Background())
		eventually(t, 5*time.Second, "another leader", func() bool { return c.leader() != f })
	}
	opened := false
	open := func() {
		if !opened {
			opened = true
			block.Store(false)
			close(gate)
		}
	}
	t.Cleanup(open)
	block.Store(true)
	first := c.apply(lifecycle(control.OpSwitch))    // c1's FSM blocks on it
	second := c.apply(lifecycle(control.OpRollback)) // queued behind it
	eventually(t, 5*time.Second, "raft handing c1 the second entry", func() bool { return f.n.raft.AppliedIndex() >= second.Index })
	if f.n.Applied() >= first.Index {
		t.Fatalf("c1 applied %d; the test needs its FSM blocked before %d", f.n.Applied(), first.Index)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	err := f.n.Confirm(ctx)
	cancel()
	if err == nil {
		t.Fatalf("c1 confirmed itself current with its state machine at %d, the leader's commit at least %d", f.n.Applied(), second.Index)
	}
	open()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.n.Confirm(ctx); err != nil {
		t.Fatalf("c1 not confirmed once its FSM caught up: %v", err)
	}
	if f.n.Applied() < second.Index {
		t.Fatalf("confirmed with the FSM at %d < %d", f.n.Applied(), second.Index)
	}
}
