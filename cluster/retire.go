package cluster

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/bgdns/bgdns/control"
)

// retireCheckEvery is how often the leader looks at the members' applied
// index while some switch awaits their confirmation.
const retireCheckEvery = 100 * time.Millisecond

// retireWatch knows which services await the confirmation of their last
// switch (control/retire.go): the FSM notes each service it changes, so
// nothing scans the whole state.
type retireWatch struct {
	mu      sync.Mutex
	pending map[string]uint64 // service -> switch index
}

func newRetireWatch() *retireWatch { return &retireWatch{pending: map[string]uint64{}} }

// note records svc's confirmation state after a change.
func (w *retireWatch) note(svc *control.Service) {
	if svc == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if idx, ok := svc.PendingRetire(); ok {
		w.pending[svc.Name] = idx
	} else {
		delete(w.pending, svc.Name)
	}
}

// reset rebuilds the set from a whole state (after a snapshot restore).
func (w *retireWatch) reset(st *control.State) {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.pending)
	st.RangeServices(func(svc *control.Service) bool {
		if idx, ok := svc.PendingRetire(); ok {
			w.pending[svc.Name] = idx
		}
		return true
	})
}

func (w *retireWatch) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, name)
}

func (w *retireWatch) snapshot() map[string]uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.pending)
}

// RetireWaiting names the members (voters and non-voters) that this node
// cannot confirm have applied index: the nodes a switch at index still
// waits for. Members that cannot be reached count as waiting.
func (n *Node) RetireWaiting(ctx context.Context, index uint64) []string {
	var out []string
	for _, st := range n.memberStatuses(ctx) {
		if !st.Reachable || st.Applied < index {
			out = append(out, st.ID)
		}
	}
	slices.Sort(out)
	return out
}

// confirmRetires runs on every node (every retireCheckEvery) and acts on
// the leader: while some switch awaits confirmation, it reads every
// member's applied index and, once all have applied the switch, commits
// the confirmation with the time it saw them all.
func (n *Node) confirmRetires() {
	// Only a leader that has applied all it committed: while it is still
	// replaying, what looks pending may be confirmed further on.
	if !n.IsLeader() || n.leaving.Load() || !n.caughtUp.Load() || n.raft.AppliedIndex() < n.raft.CommitIndex() {
		return
	}
	pending := n.fsm.retire.snapshot()
	if len(pending) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n.confirmRound(ctx, pending)
}

func (n *Node) confirmRound(ctx context.Context, pending map[string]uint64) {
	seen := time.Now()
	sts := n.memberStatuses(ctx)
	lowest := uint64(0)
	for i, st := range sts {
		if !st.Reachable {
			return
		}
		if i == 0 || st.Applied < lowest {
			lowest = st.Applied
		}
	}
	for name, idx := range pending {
		if idx > lowest {
			continue
		}
		cmd := control.Command{
			Op: control.OpRetireConfirmed, Name: name, Actor: "bgdns",
			Retire: &control.RetireSpec{SwitchIndex: idx, ConfirmedAt: seen.UTC()},
		}
		res, err := n.Propose(ctx, cmd)
		if err != nil {
			n.log.Debug("retire confirmation not committed", "service", name, "err", err)
			return
		}
		if res.Err != nil { // the service is gone (deleted, its zone deleted)
			n.fsm.retire.forget(name)
		}
	}
}
