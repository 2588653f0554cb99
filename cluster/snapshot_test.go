package cluster

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/bgdns/bgdns/control"
)

var updateFixtures = flag.Bool("update", false, "rewrite the snapshot fixture of the current format")

// fixtureDir holds one snapshot per envelope format ever written. A fixture
// is written once, when its format is current, and never edited: every
// later version must still restore it.
var fixtureDir = filepath.Join("..", "testdata", "snapshots")

func fixtureFSM(t *testing.T) *fsm {
	f := newFSM(nil, testLogger())
	f.Apply(commandLog(t, 3, zonePut()))
	f.Apply(memberLog(t, 4, memberOp{Op: memberSet, Member: Member{ID: "n1", HTTPAddr: "http://127.0.0.71:8053", DNSAddr: "127.0.0.71:5353"}}))
	f.Apply(memberLog(t, 5, memberOp{Op: memberSet, Member: Member{ID: "n2", HTTPAddr: "http://127.0.0.72:8053", DNSAddr: "127.0.0.72:5353"}}))
	f.Apply(commandLog(t, 6, servicePut()))
	f.Apply(commandLog(t, 7, deploy("2.0", "10.0.0.21")))
	sw := lifecycle(control.OpSwitch)
	sw.RequestID = "req-switch-1"
	sw.Reason = "2.0 passed tests"
	f.Apply(commandLog(t, 8, sw))
	return f
}

func TestSnapshotFixturesRestore(t *testing.T) {
	current := filepath.Join(fixtureDir, fmt.Sprintf("cluster-v%d.json", snapshotFormat))
	if *updateFixtures {
		snap, _ := fixtureFSM(t).Snapshot()
		var sink memSink
		if err := snap.Persist(&sink); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(current, sink.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for v := 1; v <= snapshotFormat; v++ {
		path := filepath.Join(fixtureDir, fmt.Sprintf("cluster-v%d.json", v))
		t.Run(filepath.Base(path), func(t *testing.T) { checkFixture(t, path) })
	}
}

// TestSnapshotChecksum: a snapshot with one byte changed, or cut short,
// is refused before anything is restored.
func TestSnapshotChecksum(t *testing.T) {
	snap, _ := fixtureFSM(t).Snapshot()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	good := sink.Bytes()
	if _, err := decodeSnapshot(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		b := bytes.Clone(good)
		i := rng.IntN(bytes.IndexByte(b, '\n'))
		b[i] ^= byte(1 + rng.IntN(255))
		if _, err := decodeSnapshot(bytes.NewReader(b)); err == nil {
			t.Fatalf("trial %d: byte %d changed, snapshot accepted", trial, i)
		}
	}
	if _, err := decodeSnapshot(bytes.NewReader(good[:bytes.IndexByte(good, '\n')+1])); !errors.Is(err, errCorrupt) {
		t.Fatalf("snapshot without its trailer: %v", err)
	}
}

// TestSnapshotCarriesChain: a node restored from a snapshot continues the
// same divergence hash as the node that took it.
func TestSnapshotCarriesChain(t *testing.T) {
	a := fixtureFSM(t)
	snap, _ := a.Snapshot()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	b := newFSM(nil, testLogger())
	if err := b.Restore(nopCloser{bytes.NewReader(sink.Bytes())}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*fsm{a, b} {
		f.Apply(commandLog(t, 9, lifecycle(control.OpRollback)))
	}
	ha, okA := a.chain.at(9)
	hb, okB := b.chain.at(9)
	if !okA || !okB || ha != hb {
		t.Fatalf("chains differ after restore: %x (%v) vs %x (%v)", ha, okA, hb, okB)
	}
}

func checkFixture(t *testing.T, current string) {
	b, err := os.ReadFile(current)
	if err != nil {
		t.Fatalf("fixture missing (run with -update once when adding a format): %v", err)
	}
	f := newFSM(nil, testLogger())
	if err := f.Restore(nopCloser{bytes.NewReader(b)}); err != nil {
		t.Fatalf("restore %s: %v", current, err)
	}
	if f.applied.Load() != 8 {
		t.Errorf("applied %d, want 8", f.applied.Load())
	}
	if m := f.Members(); len(m) != 2 || m["n2"].HTTPAddr != "http://127.0.0.72:8053" {
		t.Errorf("members %+v", m)
	}
	st := f.state.Load()
	if st.Zone(testZone) == nil {
		t.Error("zone lost")
	}
	svc := st.Service(testSvc)
	if svc == nil || svc.Active != control.Green || svc.Revision != 8 {
		t.Fatalf("service %+v", svc)
	}
	if h, _ := st.History(testSvc, 0); len(h) != 3 || h[0].Reason != "2.0 passed tests" {
		t.Errorf("history %+v", h)
	}
	// The remembered request id survives: a retry is answered, not applied.
	sw := lifecycle(control.OpSwitch)
	sw.RequestID = "req-switch-1"
	r, _ := f.Apply(commandLog(t, 9, sw)).(control.Result)
	if !r.Duplicate || r.Index != 8 {
		t.Errorf("retried request: %+v", r)
	}
}
