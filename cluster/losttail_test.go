package cluster

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A single-voter node whose store ends below what it served before it
// stopped (a damaged raft.db fell back to an older transaction) refuses
// to start: as its own leader it would write over that history and serve
// an older state.
func TestLostTailRefusedOnASingleVoter(t *testing.T) {
	dir := t.TempDir()
	n, err := openBolt(t, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "leader", n.IsLeader)
	mustApply(t, n, zonePut())
	mustApply(t, n, servicePut())
	applied := n.Applied()
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// As if the node had served entries its store no longer holds.
	if err := newWatermark(dir).record(applied+50, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	n2, err := openBolt(t, dir, false)
	if err == nil {
		n2.Shutdown(context.Background())
		t.Fatal("a single voter whose store lost entries it served started")
	}
	if !strings.Contains(err.Error(), "raft.db") || !strings.Contains(err.Error(), "lost committed entries") {
		t.Fatalf("error does not say what was lost: %v", err)
	}
	// With the watermark where it was, the same store starts.
	if err := newWatermark(dir).record(applied, time.Now(), true); err != nil {
		t.Fatal(err)
	}
	n3, err := openBolt(t, dir, false)
	if err != nil {
		t.Fatalf("an intact store refused: %v", err)
	}
	n3.Shutdown(context.Background())
}
