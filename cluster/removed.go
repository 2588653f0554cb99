package cluster

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/raft"
)

// checkRemoved notices that this node was taken out of the configuration
// without learning it. The leader stops replicating to a server as soon as
// it appends the entry that removes it, so that entry may never reach the
// server: it then never hears from a leader again, its elections are
// refused, and under the stale policy serve it would answer stale forever.
//
// While this node knows no leader, it counts the voters of its own
// configuration whose configuration (in their checkpoint) no longer lists
// it. A majority of them can only mean a committed removal; the node then
// stops serving, until a leader reaches it again (it was added back) or a
// majority lists it again.
func (n *Node) checkRemoved(cps []peerCheckpoint) {
	if _, id := n.raft.LeaderWithID(); id != "" { // a leader knows itself
		n.outOfCluster.Store(nil)
		return
	}
	voters := 0
	for _, s := range n.configuration() {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	var without []string
	for _, p := range cps {
		if len(p.cp.Members) > 0 && !slices.Contains(p.cp.Members, n.cfg.NodeID) {
			without = append(without, p.id)
		}
	}
	if voters == 0 || len(without) < voters/2+1 {
		if n.outOfCluster.Swap(nil) != nil {
			n.log.Info("listed in the cluster's configuration again")
		}
		return
	}
	why := fmt.Sprintf("removed from the cluster: %s no longer list this node in their configuration", strings.Join(without, ", "))
	if n.outOfCluster.Swap(&why) == nil {
		n.log.Warn("this node was removed from the cluster without receiving its removal; it stops answering",
			"voters", strings.Join(without, ","))
	}
}
