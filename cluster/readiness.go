package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// watchInterval is how often the node recomputes whether it serves.
const watchInterval = 50 * time.Millisecond

// watch recomputes Serving every watchInterval and, on the leader, makes
// sure this node's own member metadata is in the replicated state.
func (n *Node) watch() {
	defer n.wg.Done()
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	for {
		n.tick(time.Now())
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

func (n *Node) tick(now time.Time) {
	if n.leaving.Load() {
		return
	}
	ok, stale, why := n.evaluate(now)
	if ok && !stale {
		n.notReady.Store(nil)
	} else {
		n.setNotReady(why)
	}
	was := n.serving.Swap(ok)
	wasStale := n.stale.Swap(ok && stale)
	if n.leaving.Load() {
		// StepDown ran while this tick evaluated: it wins.
		n.serving.Store(false)
		return
	}
	switch {
	case was != ok && ok && stale:
		n.log.Warn("serving stale answers", "reason", why, "applied", n.Applied())
	case was != ok && ok:
		n.log.Info("serving", "applied", n.Applied())
	case was != ok:
		n.log.Warn("not serving", "reason", why, "applied", n.Applied())
	case ok && wasStale != stale && stale:
		n.log.Warn("serving stale answers", "reason", why, "applied", n.Applied())
	case ok && wasStale != stale:
		n.log.Info("serving current answers again", "applied", n.Applied())
	}
	if n.IsLeader() {
		n.registerSelf()
	} else if ok && !stale {
		n.refreshSelf(now)
	}
}

// evaluate applies the readiness rules. A node serves only when:
//   - it is a member of the cluster configuration, and neither found its
//     log diverged from the cluster's nor met an entry it cannot apply;
//   - it has applied at least the log it had at boot, and at least what it
//     served before it stopped (its served-index watermark).
//
// It is current (not stale) while it holds a confirmation less than
// MaxStale old (see confirm.go). Otherwise, with StaleServe, it keeps
// serving its last applied state, labelled stale, provided it was
// confirmed once since start or has served before (a brand-new node never
// serves an empty state); with StaleServfail it stops serving.
func (n *Node) evaluate(now time.Time) (ok, stale bool, why string) {
	if p := n.diverged.Load(); p != nil {
		return false, false, *p
	}
	if p := n.fsm.broken.Load(); p != nil {
		return false, false, *p
	}
	leading := n.raft.State() == raft.Leader
	_, leaderID := n.raft.LeaderWithID()
	switch {
	case leading:
		n.lastLeaderContact.Store(now.UnixNano())
	case leaderID != "":
		if lc := n.raft.LastContact(); !lc.IsZero() && lc.UnixNano() > n.lastLeaderContact.Load() {
			n.lastLeaderContact.Store(lc.UnixNano())
		}
	}
	if !n.inConfiguration() {
		return false, false, "not a member of the cluster configuration"
	}
	if p := n.outOfCluster.Load(); p != nil {
		return false, false, *p
	}
	if !n.caughtUp.Load() {
		target, err := n.catchUpTarget()
		if err != nil {
			return false, false, "reading the log: " + err.Error()
		}
		if applied := n.Applied(); applied < target {
			return false, false, fmt.Sprintf("catching up: applied %d of %d", applied, target)
		}
		if applied := n.Applied(); applied < n.served {
			return false, false, fmt.Sprintf("catching up: applied %d, but served %d before it stopped (its log ends earlier: waiting for the leader)", applied, n.served)
		}
		if !n.everConfirmed.Load() && n.served == 0 {
			return false, false, "has not confirmed its state with a leader yet"
		}
		n.caughtUp.Store(true)
		n.log.Info("caught up", "applied", n.Applied(), "boot_index", n.bootTarget)
	}
	if !n.fresh(now) {
		why := "not confirmed as current by a leader within max stale " + n.cfg.MaxStale.String()
		if contact := n.lastLeaderContact.Load(); contact != 0 && !leading {
			why += fmt.Sprintf(" (last heard from a leader %s ago)", now.Sub(time.Unix(0, contact)).Round(time.Millisecond))
		}
		if n.cfg.StalePolicy == StaleServfail {
			return false, false, why
		}
		return true, true, why
	}
	if err := n.watermark.record(n.Applied(), now, false); err != nil {
		n.log.Warn("could not record the served index", "err", err)
	}
	return true, false, ""
}

// catchUpTarget is the command index this node must have applied before it
// serves: the last command it had at boot (unless Raft has since replaced
// that uncommitted tail) and the last command it knows to be committed.
func (n *Node) catchUpTarget() (uint64, error) {
	logs := n.stores.logs
	boot := n.bootTarget
	if boot > 0 {
		tail, err := lastCommandAtOrBelow(logs, n.raft.LastIndex())
		if err != nil {
			return 0, err
		}
		boot = min(boot, tail)
	}
	committed, err := lastCommandAtOrBelow(logs, n.raft.CommitIndex())
	if err != nil {
		return 0, err
	}
	return max(boot, committed), nil
}

func (n *Node) inConfiguration() bool {
	for _, s := range n.configuration() {
		if string(s.ID) == n.cfg.NodeID {
			return true
		}
	}
	return false
}

func (n *Node) selfMember() Member {
	return Member{ID: n.cfg.NodeID, HTTPAddr: n.cfg.HTTPAddr, DNSAddr: n.cfg.DNSAddr, NSName: n.cfg.NSName}
}

// registerSelf proposes this node's metadata when the replicated copy is
// missing or differs (a new cluster, or a restart with new addresses).
func (n *Node) registerSelf() {
	if n.selfRemoved.Load() {
		return
	}
	want := n.selfMember()
	if have, ok := n.fsm.Members()[want.ID]; ok && have == want {
		return
	}
	if !n.registering.CompareAndSwap(false, true) {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.registering.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.proposeMember(ctx, memberOp{Op: memberSet, Member: want}); err != nil {
			n.log.Warn("could not record this node's addresses", "err", err)
		}
	}()
}

// refreshInterval spaces a follower's attempts to correct its metadata.
const refreshInterval = 5 * time.Second

// refreshSelf asks the leader to correct this follower's replicated
// addresses when they differ from its configuration (a restart with a new
// API or DNS address). A missing entry is left alone: a join in flight
// records it, and a removal deletes it on purpose.
func (n *Node) refreshSelf(now time.Time) {
	want := n.selfMember()
	have, ok := n.fsm.Members()[want.ID]
	if !ok || have == want || now.UnixNano()-n.lastRefresh.Load() < int64(refreshInterval) {
		return
	}
	_, leaderHTTP := n.leader()
	if leaderHTTP == "" || !n.registering.CompareAndSwap(false, true) {
		return
	}
	n.lastRefresh.Store(now.UnixNano())
	// with this node's role as the configuration has it: an edge stays one
	req := peer.JoinRequest{ID: want.ID, RaftAddr: n.RaftAddr(), HTTPAddr: want.HTTPAddr, DNSAddr: want.DNSAddr, Role: peer.JoinRole(n.selfRole()),
		NSName: want.NSName}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.registering.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), refreshInterval)
		defer cancel()
		go func() {
			select {
			case <-n.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := n.peers.Join(ctx, leaderHTTP, req); err != nil {
			n.log.Warn("could not update this node's addresses on the leader", "err", err)
			return
		}
		n.log.Info("updated this node's addresses", "http", want.HTTPAddr, "dns", want.DNSAddr)
	}()
}
