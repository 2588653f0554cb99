package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

func serviceOf(tn *tnode) *control.Service { return tn.n.State().Service(testSvc) }

// TestRetireWatermarkWaitsForEveryMember: after a switch, the watermark is
// set only once every member applied it; a cut-off member holds it back
// (and is named as waited for) until it catches up.
func TestRetireWatermarkWaitsForEveryMember(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	lag := c.others(l)[0]
	c.isolate(lag)
	c.peers.Register(lag.url, nil)
	res := c.apply(lifecycle(control.OpSwitch))
	time.Sleep(5 * retireCheckEvery) // several rounds, on purpose: nothing may confirm
	svc := serviceOf(l)
	if idx, pending := svc.PendingRetire(); !pending || idx != res.Index || !svc.SafeToRetireAt.IsZero() {
		t.Fatalf("with %s cut off: pending %v at %d, safe_to_retire_at %v", lag.id, pending, idx, svc.SafeToRetireAt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	waiting := l.n.RetireWaiting(ctx, res.Index)
	cancel()
	if !slices.Equal(waiting, []string{lag.id}) {
		t.Fatalf("waiting for %v, want [%s]", waiting, lag.id)
	}
	healed := time.Now()
	c.heal(lag)
	c.peers.Register(lag.url, lag.n)
	eventually(t, 10*time.Second, "the watermark confirmed", func() bool {
		_, pending := serviceOf(l).PendingRetire()
		return !pending
	})
	svc = serviceOf(l)
	if svc.RetireConfirmedAt.Before(healed) {
		t.Fatalf("confirmed at %v, before the lagging member was back at %v", svc.RetireConfirmedAt, healed)
	}
	for _, tn := range c.nodes {
		eventually(t, 5*time.Second, tn.id+" sees the watermark", func() bool {
			return !serviceOf(tn).SafeToRetireAt.IsZero()
		})
	}
}

// TestRetireWatermarkIgnoresRemovedMember: a member removed from the
// cluster stops counting.
func TestRetireWatermarkIgnoresRemovedMember(t *testing.T) {
	c := newTestCluster(t, 3)
	l := setupService(t, c)
	gone := c.others(l)[0]
	c.crash(gone)
	c.apply(lifecycle(control.OpSwitch))
	time.Sleep(3 * retireCheckEvery)
	if _, pending := serviceOf(l).PendingRetire(); !pending {
		t.Fatal("confirmed while a member is down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.retry("remove", func(n *Node) error { return n.Remove(ctx, gone.id) })
	eventually(t, 10*time.Second, "confirmed without the removed member", func() bool {
		_, pending := serviceOf(c.leader()).PendingRetire()
		return !pending
	})
}
