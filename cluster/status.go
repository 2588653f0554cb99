package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

const (
	waitPollMin = 2 * time.Millisecond
	waitPollMax = 50 * time.Millisecond
)

// Self describes this node only.
func (n *Node) Self() peer.NodeStatus {
	var lc time.Duration
	leading := n.IsLeader()
	if !leading {
		if c := n.lastLeaderContact.Load(); c != 0 {
			lc = time.Since(time.Unix(0, c))
		}
	}
	voter, found := n.selfVoter()
	role := "" // not in the configuration (yet, or any more)
	if found {
		role = peer.RoleOf(voter)
	}
	return peer.NodeStatus{
		ID:          n.cfg.NodeID,
		RaftAddr:    n.RaftAddr(),
		HTTPAddr:    n.cfg.HTTPAddr,
		DNSAddr:     n.cfg.DNSAddr,
		Voter:       voter,
		Role:        role,
		Leader:      leading,
		Applied:     n.Applied(),
		LastContact: lc,
		Serving:     n.Serving(),
		Stale:       n.Stale(),
		Reachable:   true,
	}
}

// Status describes the cluster as this node sees it; the other members'
// applied index, last contact and serving flag come from their APIs,
// fetched concurrently with a short timeout.
func (n *Node) Status(ctx context.Context) peer.ClusterStatus {
	leaderID, leaderHTTP := n.leader()
	return peer.ClusterStatus{
		Self:        n.cfg.NodeID,
		LeaderID:    leaderID,
		LeaderHTTP:  leaderHTTP,
		CommitIndex: n.raft.CommitIndex(),
		Members:     n.memberStatuses(ctx),
	}
}

// WaitApplied polls every member of the configuration, voters and edges,
// until all have applied index or ctx ends. A removed member is out of
// the configuration and no longer waited for.
// It returns the statuses as last seen, and ctx's error when the deadline
// came first (the statuses then name the nodes that lag).
func (n *Node) WaitApplied(ctx context.Context, index uint64) ([]peer.NodeStatus, error) {
	wait := waitPollMin
	seen := map[string]peer.NodeStatus{} // last successful answer per node
	for {
		sts := n.memberStatuses(ctx)
		all := true
		for i, s := range sts {
			if s.Reachable {
				seen[s.ID] = s
			} else if prev, ok := seen[s.ID]; ok && ctx.Err() != nil {
				// The deadline cut this round short: report what the
				// node said last rather than a cancelled request.
				sts[i] = prev
			}
			if sts[i].Applied < index {
				all = false
			}
		}
		if all {
			return sts, nil
		}
		if err := ctx.Err(); err != nil {
			return sts, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, waitPollMax)
	}
}

// memberStatuses describes every server of the configuration, voters and
// edges, asking each peer's API concurrently.
func (n *Node) memberStatuses(ctx context.Context) []peer.NodeStatus {
	servers := n.configuration()
	meta := n.fsm.Members()
	_, leaderID := n.raft.LeaderWithID()
	out := make([]peer.NodeStatus, 0, len(servers))
	for _, s := range servers {
		m := meta[string(s.ID)]
		out = append(out, peer.NodeStatus{
			ID: string(s.ID), RaftAddr: string(s.Address), HTTPAddr: m.HTTPAddr, DNSAddr: m.DNSAddr,
			Voter: s.Suffrage == raft.Voter, Role: peer.RoleOf(s.Suffrage == raft.Voter), Leader: s.ID == leaderID,
		})
	}
	var wg sync.WaitGroup
	for i := range out {
		if out[i].ID == n.cfg.NodeID {
			self := n.Self()
			self.Leader = out[i].Leader
			self.Voter, self.Role = out[i].Voter, out[i].Role
			out[i] = self
			continue
		}
		wg.Add(1)
		go func(st *peer.NodeStatus) {
			defer wg.Done()
			n.fillFromPeer(ctx, st)
		}(&out[i])
	}
	wg.Wait()
	return out
}

func (n *Node) fillFromPeer(ctx context.Context, st *peer.NodeStatus) {
	if st.HTTPAddr == "" {
		st.Error = "API address not known yet"
		return
	}
	p, err := n.peers.Self(ctx, st.HTTPAddr)
	if err != nil {
		st.Error = err.Error()
		return
	}
	if p.ID != st.ID {
		st.Error = fmt.Sprintf("%s answers as node %q", st.HTTPAddr, p.ID)
		return
	}
	st.Applied = p.Applied
	st.LastContact = p.LastContact
	st.Serving = p.Serving
	st.Stale = p.Stale
	st.Reachable = true
}
