package control

import (
	"strconv"
	"time"
)

// OpSnapshotRestore is the action of the audit record a restore leaves:
// who replaced the state, when, and from a snapshot taken at which index.
const OpSnapshotRestore Op = "snapshot.restore"

// RestoredOnto returns s as the state of a cluster whose current state is
// cur, restored by the entry at index at time at: s's zones, services,
// histories, tokens and audit, with the index of the restore, every zone's
// serial and revision moved to index (so that secondaries see each zone
// change), cur's membership (the cluster's members are not part of a
// backup's content: they are the cluster restoring it), and an audit
// record of the restore by actor.
func (s *State) RestoredOnto(cur *State, index uint64, at time.Time, actor string) *State {
	c := s.with(index)
	zones := make(map[string]*Zone, len(s.zones))
	for name, z := range s.zones {
		zones[name] = z.touched(index, at)
	}
	c.zones = zones
	if cur != nil {
		c.members = cur.members
	}
	c.pushAudit(Record{Time: at, Actor: actor, Action: OpSnapshotRestore, Index: index,
		Target: "state", From: "snapshot@" + strconv.FormatUint(s.index, 10)})
	return c
}

// HistoryCounts reports how many services have a history and how many
// records those histories hold in all (as a snapshot keeps them).
func (s *State) HistoryCounts() (services, records int) {
	s.history.Range(func(_ string, h *history) bool {
		services++
		records += len(h.records(MaxHistory))
		return true
	})
	return services, records
}
