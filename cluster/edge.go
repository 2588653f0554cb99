package cluster

import (
	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// Edge nodes are Raft non-voters (see Join): they replicate the log and
// serve DNS from it with the same confirmation and stale policy as a
// voter, forward writes, count for wait=all and the retire watermark, and
// never vote, lead or count in the majority that decides a divergence.

// selfRole is this node's role as the configuration has it: RoleEdge for
// a non-voter, RoleVoter otherwise (also before it is in any
// configuration).
func (n *Node) selfRole() string {
	voter, found := n.selfVoter()
	return peer.RoleOf(voter || !found)
}

// selfVoter reports whether this node is a voter, and whether it is in
// the configuration at all.
func (n *Node) selfVoter() (voter, found bool) {
	for _, s := range n.configuration() {
		if string(s.ID) == n.cfg.NodeID {
			return s.Suffrage == raft.Voter, true
		}
	}
	return false, false
}
