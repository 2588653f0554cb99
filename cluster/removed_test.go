package cluster

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A node removed while it was cut off never receives the entry that
// removes it (the leader stops replicating to it), so no leader ever
// reaches it again. It learns from the voters that they no longer list it
// and stops serving instead of answering stale forever; added back, it
// serves again.
func TestRemovedWhileCutOffStopsServing(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	gone := c.others(l)[0]
	c.isolate(gone)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.retry("remove", func(n *Node) error { return n.Remove(ctx, gone.id) })
	// the leader's last attempt to send it the removal fails while it is
	// cut off; then nothing more is sent to it
	time.Sleep(time.Second)
	c.heal(gone)
	for _, o := range c.others(gone) {
		for _, s := range o.n.configuration() {
			if string(s.ID) == gone.id {
				t.Fatalf("%s still lists %s", o.id, gone.id)
			}
		}
	}
	if !gone.n.inConfiguration() {
		t.Fatal("the removed node received its removal: this test needs one that did not")
	}
	eventually(t, 10*time.Second, "the removed node stops serving", func() bool { return !gone.n.Serving() })
	if err := gone.n.Ready(); err == nil || !strings.Contains(err.Error(), "removed from the cluster") {
		t.Fatalf("readiness of the removed node: %v", err)
	}
	if !gone.n.inConfiguration() {
		t.Fatal("the removed node received its removal after all")
	}

	c.join(gone)
	eventually(t, 10*time.Second, "the node added back serves", func() bool { return gone.n.Serving() && gone.n.Ready() == nil })
}
