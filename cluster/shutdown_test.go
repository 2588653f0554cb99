package cluster

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A clean shutdown leaves a snapshot holding everything applied, so the
// next start restores instead of replaying the whole log.
func TestShutdownTakesSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{NodeID: "n1", DataDir: dir, RaftAddr: freeAddr(t), HTTPAddr: "http://127.0.0.1:1",
		Bootstrap: true, Logger: testLogger(), MaxStale: time.Second}
	fastTimeouts(&cfg)
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "serving after bootstrap", n.Serving)
	mustApply(t, n, zonePut())
	res := mustApply(t, n, servicePut())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	snaps, err := raft.NewFileSnapshotStore(dir, 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	list, err := snaps.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 || list[0].Index < res.Index {
		t.Fatalf("snapshots after shutdown: %+v, want one at index >= %d", list, res.Index)
	}
}
