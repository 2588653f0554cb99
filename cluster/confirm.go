package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// Stale policies: what a node that cannot confirm it is current answers.
const (
	// StaleServe keeps answering from the last applied state, labelled
	// stale (the DNS server adds Extended DNS Error 3 and caps TTLs).
	StaleServe = "serve"
	// StaleServfail answers SERVFAIL for our zones.
	StaleServfail = "servfail"
)

// A node counts as current (fresh) only while it holds a confirmation,
// less than MaxStale old, that it has applied everything the leader had
// committed when the confirmation started (Raft's ReadIndex): hearing a
// heartbeat is not enough, since heartbeats resume before the log does.
// The leader confirms itself by verifying its leadership with a quorum.
//
// confirmedAt is the start of the last such confirmation (unix ns);
// everConfirmed says one has happened since start.

// ReadIndex is the leader's side of a confirmation: its commit index, once
// it has verified with a quorum that it still leads (so the index is at
// least every write acknowledged before the call).
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	if err := n.checkLeader(); err != nil {
		return 0, err
	}
	if err := n.termCommitted(ctx); err != nil {
		return 0, err
	}
	commit := n.raft.CommitIndex()
	if err := waitFuture(ctx, n.raft.VerifyLeader()); err != nil {
		return 0, n.raftError(err)
	}
	return commit, nil
}

// termCommitted makes sure, once per term, that this leader has committed
// and applied an entry of its own term: until then its commit index (and
// its applied state) may lack writes its predecessor acknowledged. A
// barrier does both; it is issued once after each election.
func (n *Node) termCommitted(ctx context.Context) error {
	term := n.raft.CurrentTerm()
	if n.termReady.Load() == term {
		return nil
	}
	if err := waitFuture(ctx, n.raft.Barrier(timeoutOf(ctx))); err != nil {
		return n.raftError(err)
	}
	n.termReady.Store(term)
	return nil
}

// Confirm makes one confirmation now: on a follower it asks the leader for
// its commit index and waits until this node applied that much. It fails
// when there is no leader or ctx ends first. A ?consistent read calls it.
func (n *Node) Confirm(ctx context.Context) error {
	start := time.Now()
	if n.IsLeader() {
		if err := n.termCommitted(ctx); err != nil {
			return err
		}
		if err := waitFuture(ctx, n.raft.VerifyLeader()); err != nil {
			return n.raftError(err)
		}
		n.confirmed(start)
		return nil
	}
	_, leaderHTTP := n.leader()
	if leaderHTTP == "" {
		return &control.Error{Code: control.CodeNoLeader, Message: "no leader to confirm with"}
	}
	commit, err := n.peers.ReadIndex(ctx, leaderHTTP)
	if err != nil {
		return &control.Error{Code: control.CodeNoLeader, Message: "confirming with the leader: " + err.Error()}
	}
	// raft's applied index counts the entries handed to the state
	// machine, not the ones it has applied: wait for raft first, then for
	// the state machine to apply the last command at or below commit.
	var target uint64 // 0: compacted away, covered by a snapshot the FSM took or restored
	known := false
	applied := func() bool {
		if n.raft.AppliedIndex() < commit {
			return false
		}
		if !known {
			t, err := lastCommandAtOrBelow(n.stores.logs, commit)
			if err != nil {
				return false // tried again on the next round
			}
			target, known = t, true
		}
		return n.fsm.applied.Load() >= target
	}
	for wait := time.Millisecond; !applied(); wait = min(2*wait, 20*time.Millisecond) {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &control.Error{Code: control.CodeNoLeader,
				Message: fmt.Sprintf("applied %d (raft %d) of the leader's %d in time", n.fsm.applied.Load(), n.raft.AppliedIndex(), commit)}
		case <-n.stop:
			t.Stop()
			return errors.New("cluster: shutting down")
		case <-t.C:
		}
	}
	n.confirmed(start)
	return nil
}

func (n *Node) confirmed(start time.Time) {
	for {
		cur := n.confirmedAt.Load()
		if start.UnixNano() <= cur || n.confirmedAt.CompareAndSwap(cur, start.UnixNano()) {
			break
		}
	}
	n.everConfirmed.Store(true)
}

// fresh reports whether the last confirmation is less than MaxStale old.
func (n *Node) fresh(now time.Time) bool {
	c := n.confirmedAt.Load()
	return c != 0 && now.Sub(time.Unix(0, c)) <= n.cfg.MaxStale
}

// confirmEvery is how often the node confirms it is current: four times
// per MaxStale, so that one lost round does not make it stale.
func (n *Node) confirmEvery() time.Duration {
	return max(n.cfg.MaxStale/4, 20*time.Millisecond)
}

// confirmRetry is how soon a failed or missing confirmation is tried
// again: a node that just started, or lost its leader, becomes current as
// soon as it can.
const confirmRetry = 50 * time.Millisecond

// confirmCurrent is one round of keeping the confirmation current, run by
// n.loop: the first at once, then every confirmEvery while current and
// every confirmRetry while not. It returns the delay to the next round.
func (n *Node) confirmCurrent() time.Duration {
	if n.raft.State() != raft.Shutdown && !n.leaving.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.MaxStale)
		if err := n.Confirm(ctx); err != nil {
			n.log.Debug("not confirmed as current", "err", err)
		}
		cancel()
	}
	next := n.confirmEvery()
	if !n.fresh(time.Now()) {
		next = min(next, confirmRetry)
	}
	return next
}
