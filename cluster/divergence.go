package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// DefaultDivergenceCheck is how often a node compares its chain with the
// other voters'.
const DefaultDivergenceCheck = time.Second

// Checkpoint is this node's chain at index (if it still holds it) and at
// its last applied entry. GET /v1/cluster/checkpoint serves it.
func (n *Node) Checkpoint(index uint64) peer.Checkpoint {
	cp := peer.Checkpoint{Index: index}
	if h, ok := n.fsm.chain.at(index); ok {
		cp.Hash, cp.Known = hexHash(h), true
	}
	idx, h, known := n.fsm.chain.head()
	cp.HeadIndex = idx
	if known {
		cp.HeadHash = hexHash(h)
	}
	for _, s := range n.configuration() {
		cp.Members = append(cp.Members, string(s.ID))
	}
	return cp
}

// divergedError is Ready's error for a diverged node; it matches
// peer.ErrDiverged.
type divergedError string

func (e divergedError) Error() string        { return string(e) }
func (e divergedError) Is(target error) bool { return target == peer.ErrDiverged }

// Diverged is nil unless this node found that its applied log differs
// from the cluster's; it then answers SERVFAIL until it is rebuilt.
func (n *Node) Diverged() error {
	if p := n.diverged.Load(); p != nil {
		return fmt.Errorf("%s", *p)
	}
	return nil
}

// checkDivergence is one round of the divergence check (run every
// cfg.DivergenceCheck): it asks every other voter for its checkpoint,
// then compareChains (until this node has diverged) and checkRemoved.
func (n *Node) checkDivergence() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*peer.Timeout)
	defer cancel()
	idx, head, known := n.fsm.chain.head()
	cps := n.voterCheckpoints(ctx, idx)
	if n.diverged.Load() == nil && known && idx != 0 {
		n.compareChains(cps, idx, head)
	}
	n.checkRemoved(cps)
}

// peerCheckpoint is one voter's answer.
type peerCheckpoint struct {
	id string
	cp peer.Checkpoint
}

// voterCheckpoints asks every other voter of this node's configuration for
// its checkpoint at idx; voters that do not answer are left out.
func (n *Node) voterCheckpoints(ctx context.Context, idx uint64) []peerCheckpoint {
	meta := n.fsm.Members()
	var out []peerCheckpoint
	for _, s := range n.configuration() {
		if s.Suffrage != raft.Voter || string(s.ID) == n.cfg.NodeID {
			continue
		}
		base := meta[string(s.ID)].HTTPAddr
		if base == "" {
			continue
		}
		cp, err := n.peers.Checkpoint(ctx, base, idx)
		if err != nil {
			continue
		}
		out = append(out, peerCheckpoint{id: string(s.ID), cp: cp})
	}
	return out
}

// verdict is one peer's comparison with this node.
type verdict struct {
	id     string
	agree  bool
	index  uint64
	theirs string
	ours   string
	leader bool
}

// compareChains compares the other voters' hashes at this node's last
// applied index idx, whose hash is head (or at theirs, when they are
// behind) and counts who agrees. Applied entries are committed entries, which Raft promises
// are the same everywhere: any difference is a divergence. This node
// declares itself diverged when more voters disagree with it than agree
// (itself included when it is a voter: an edge compares its chain with the
// voters but is never asked, and never counts itself, in that majority);
// on a tie, when it disagrees with the leader.
func (n *Node) compareChains(cps []peerCheckpoint, idx uint64, head [sha256.Size]byte) {
	_, leaderID := n.raft.LeaderWithID()
	var verdicts []verdict
	for _, p := range cps {
		if v, ok := n.judge(p.cp, idx, head); ok {
			v.id, v.leader = p.id, raft.ServerID(p.id) == leaderID
			verdicts = append(verdicts, v)
		}
	}
	voter, _ := n.selfVoter()
	diverged, first, agree, disagree := decideDivergence(voter, verdicts)
	if !diverged {
		if first != nil {
			n.log.Error("a peer's applied log differs from this node's and the majority's",
				"peer", first.id, "index", first.index, "ours", first.ours, "theirs", first.theirs)
		}
		return
	}
	why := fmt.Sprintf("diverged: the applied log differs from the cluster's at index %d (this node %s, %s has %s); "+
		"stop this node, move its data directory aside, remove it (bgdns cluster remove %s) and start it empty with --join",
		first.index, short(first.ours), first.id, short(first.theirs), n.cfg.NodeID)
	n.diverged.Store(&why)
	n.serving.Store(false)
	n.setNotReady(why)
	n.log.Error("this node's log diverged from the cluster; it stops answering", "index", first.index,
		"ours", first.ours, "theirs", first.theirs, "peer", first.id, "agree", agree, "disagree", disagree,
		"recover", "stop the node, move its data directory aside, remove it from the cluster and start it empty with --join")
}

// decideDivergence counts the voters' verdicts: this node diverged when
// more of them disagree with it than agree, itself counted as agreeing
// only when it is a voter (selfVotes); on a tie, when the leader
// disagrees. first is the first disagreeing verdict (nil when none).
func decideDivergence(selfVotes bool, verdicts []verdict) (diverged bool, first *verdict, agree, disagree int) {
	if selfVotes {
		agree = 1
	}
	leaderDisagrees := false
	for i, v := range verdicts {
		if v.agree {
			agree++
			continue
		}
		disagree++
		leaderDisagrees = leaderDisagrees || v.leader
		if first == nil {
			first = &verdicts[i]
		}
	}
	if disagree == 0 || disagree < agree || (disagree == agree && !leaderDisagrees) {
		return false, first, agree, disagree
	}
	return true, first, agree, disagree
}

// judge compares a peer's checkpoint with this node's chain: at our head
// when the peer holds it, else at the peer's head when we still hold that.
func (n *Node) judge(cp peer.Checkpoint, idx uint64, head [sha256.Size]byte) (verdict, bool) {
	if cp.Known {
		ours := hexHash(head)
		return verdict{agree: cp.Hash == ours, index: idx, ours: ours, theirs: cp.Hash}, true
	}
	if cp.HeadHash == "" || cp.HeadIndex == 0 || cp.HeadIndex > idx {
		return verdict{}, false
	}
	h, ok := n.fsm.chain.at(cp.HeadIndex)
	if !ok {
		return verdict{}, false
	}
	ours := hexHash(h)
	return verdict{agree: cp.HeadHash == ours, index: cp.HeadIndex, ours: ours, theirs: cp.HeadHash}, true
}

func short(h string) string {
	if _, err := hex.DecodeString(h); err == nil && len(h) > 16 {
		return h[:16]
	}
	return h
}
