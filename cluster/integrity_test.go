package cluster

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

// openBolt opens a one-node cluster on real bolt and file stores in dir.
func openBolt(t *testing.T, dir string, bootstrap bool) (*Node, error) {
	t.Helper()
	return Open(Config{
		NodeID: "a1", DataDir: dir, RaftAddr: "127.0.0.1:0", Bootstrap: bootstrap,
		Logger: testLogger(), NoSnapshotOnShutdown: true,
	})
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCorruptStoreNeverServed flips random bytes in raft.db, seeded, many
// times: the node either refuses to start (naming the file), refuses to
// serve, or serves exactly the state it had. It never answers from
// damaged data and never panics.
func TestCorruptStoreNeverServed(t *testing.T) {
	good := t.TempDir()
	n, err := openBolt(t, good, true)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "leader", n.IsLeader)
	mustApply(t, n, zonePut())
	mustApply(t, n, servicePut())
	for i := 0; i < 20; i++ {
		mustApply(t, n, deploy("2."+string(rune('0'+i%10)), "10.0.0.21"))
		mustApply(t, n, lifecycle(control.OpSwitch))
		mustApply(t, n, lifecycle(control.OpComplete))
	}
	settled(t, n)
	want, err := control.MarshalState(n.State())
	if err != nil {
		t.Fatal(err)
	}
	wantApplied := n.Applied()
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(17, 1))
	var refusedStart, refusedServe, servedSame int
	for trial := 0; trial < 30; trial++ {
		dir := t.TempDir()
		copyDir(t, good, dir)
		db := filepath.Join(dir, boltFile)
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		}
		if err := os.WriteFile(db, b, 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := openBolt(t, dir, false)
		if err != nil {
			if !strings.Contains(err.Error(), "raft.db") && !strings.Contains(err.Error(), "bolt") {
				t.Errorf("trial %d: refused to start without naming the store: %v", trial, err)
			}
			refusedStart++
			continue
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && !n.Serving() && n.fsm.broken.Load() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		// Give the readiness loop one more round to see a late failure.
		time.Sleep(2 * watchInterval)
		switch {
		case !n.Serving():
			refusedServe++
		default:
			got, err := control.MarshalState(n.State())
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("trial %d: serving a state that differs from the one written (applied %d, want %d)\n got %.300s\nwant %.300s", trial, n.Applied(), wantApplied, got, want)
			}
			servedSame++
		}
		_ = n.Shutdown(context.Background())
	}
	t.Logf("30 trials: %d refused to start, %d refused to serve, %d served the original state", refusedStart, refusedServe, servedSame)
	if refusedStart+refusedServe == 0 {
		t.Error("no trial hit the data: the corruption did not reach the log")
	}
}
