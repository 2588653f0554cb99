package cluster

import (
	"fmt"

	"github.com/hashicorp/raft"
)

// checkLostTail refuses to start a node that is the only voter of its
// configuration when its log and snapshots end below the index it served
// before it stopped. The store then lost committed entries (a damaged
// raft.db can fall back to an older transaction), and nobody can bring
// them back: as its own leader it would append new entries over that
// history and serve a state older than one it served. A node with other
// voters waits for the leader instead (the readiness check).
func (n *Node) checkLostTail(lastLog uint64, snaps raft.SnapshotStore) error {
	if n.served == 0 {
		return nil
	}
	end := lastLog
	if metas, err := snaps.List(); err == nil && len(metas) > 0 {
		end = max(end, metas[0].Index)
	}
	if end >= n.served {
		return nil
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return fmt.Errorf("cluster: read configuration: %w", err)
	}
	voters := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	if voters > 1 {
		return nil
	}
	return fmt.Errorf("cluster: raft.db and the snapshots end at index %d, but this node served index %d before it stopped: "+
		"the store lost committed entries; restore the data directory from a backup (bgdns snapshot restore, or serve --restore)", end, n.served)
}
