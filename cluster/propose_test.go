package cluster

import (
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

func TestProposeStampsTime(t *testing.T) {
	c := newTestCluster(t, 1)
	before := time.Now().UTC()
	cmd := zonePut()
	cmd.Time = time.Time{}
	c.propose(cmd)
	z := c.leader().n.State().Zone(testZone)
	if z == nil || z.ChangedAt.Before(before) || z.ChangedAt.After(time.Now().UTC()) {
		t.Fatalf("zone stamped at %+v, want between %s and now", z, before)
	}
	// A time the proposer set is kept.
	c.propose(zonePut())
	if z := c.leader().n.State().Zone(testZone); !z.ChangedAt.Equal(testTime) {
		t.Fatalf("explicit time replaced: %s", z.ChangedAt)
	}
}

func TestStampMaxStale(t *testing.T) {
	n := &Node{cfg: Config{MaxStale: 3 * time.Second}}
	if got := n.stamp(control.Command{}).MaxStale.D(); got != 3*time.Second {
		t.Errorf("zero max_stale stamped as %s", got)
	}
	if got := n.stamp(control.Command{MaxStale: control.Duration(time.Second)}).MaxStale.D(); got != time.Second {
		t.Errorf("explicit max_stale replaced by %s", got)
	}
}
