package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
	"github.com/hashicorp/raft"
)

// TestDivergedNodeStopsServing replaces one committed entry in a stopped
// node's log with another command of the same term, the way the paused-
// leader race in raft did: the restarted node applies a different entry
// at the same index, finds that the other voters disagree with its chain,
// and stops serving. The others keep serving.
func TestDivergedNodeStopsServing(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.DivergenceCheck = 50 * time.Millisecond
		cfg.NoSnapshotOnShutdown = true
	})
	c.apply(zonePut())
	c.apply(servicePut())
	c.apply(deploy("2.0", "10.0.0.21"))
	victim := c.others(c.leader())[0]
	eventually(t, 5*time.Second, "victim applied the deploy", func() bool {
		svc := victim.n.State().Service(testSvc)
		return svc != nil && svc.Green != nil
	})
	c.stop(victim)

	// Replace the deploy entry with another deploy of the same term.
	idx, err := lastCommandAtOrBelow(victim.logs, mustLastIndex(t, victim.logs))
	if err != nil || idx == 0 {
		t.Fatalf("last command: %d, %v", idx, err)
	}
	var l raft.Log
	if err := victim.logs.GetLog(idx, &l); err != nil {
		t.Fatal(err)
	}
	forged, err := encodeCommandEntry(deploy("6.6.6", "203.0.113.66"))
	if err != nil {
		t.Fatal(err)
	}
	l.Data = forged
	if err := victim.logs.StoreLog(&l); err != nil {
		t.Fatal(err)
	}
	c.restart(victim)

	eventually(t, 10*time.Second, "the victim finds itself diverged", func() bool {
		return victim.n.Diverged() != nil
	})
	if victim.n.Serving() {
		t.Fatal("diverged node still serving")
	}
	eventually(t, 2*time.Second, "ready says diverged", func() bool {
		err := victim.n.Ready()
		return errors.Is(err, peer.ErrDiverged) && strings.Contains(err.Error(), "move its data directory aside")
	})
	if got := victim.n.State().Service(testSvc).Green.Version; got != "6.6.6" {
		t.Fatalf("the forged entry was not applied (green %q): the test did not create a divergence", got)
	}
	for _, o := range c.others(victim) {
		if o.n.Diverged() != nil || !o.n.Serving() {
			t.Fatalf("%s: diverged %v, serving %v", o.id, o.n.Diverged(), o.n.Serving())
		}
	}
	// Writes still commit among the healthy majority, and the victim stays
	// out.
	c.apply(lifecycle(control.OpSwitch))
	time.Sleep(200 * time.Millisecond) // several check rounds, on purpose
	if victim.n.Serving() {
		t.Fatal("diverged node serves again")
	}
}

// TestHealthyClusterNeverDiverges: many writes with checks every few
// milliseconds find no divergence (no false alarm while followers lag).
func TestHealthyClusterNeverDiverges(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.DivergenceCheck = 5 * time.Millisecond })
	c.apply(zonePut())
	c.apply(servicePut())
	c.apply(deploy("2.0", "10.0.0.21"))
	for i := 0; i < 100; i++ {
		op := control.OpSwitch
		if i%2 == 1 {
			op = control.OpRollback
		}
		c.apply(lifecycle(op))
	}
	for _, tn := range c.nodes {
		if err := tn.n.Diverged(); err != nil {
			t.Fatalf("%s: %v", tn.id, err)
		}
	}
}

func mustLastIndex(t *testing.T, s raft.LogStore) uint64 {
	t.Helper()
	i, err := s.LastIndex()
	if err != nil {
		t.Fatal(err)
	}
	return i
}
