package cluster

import (
	"bytes"
	"flag"
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
	current := filepath.Join(fixtureDir, "cluster-v1.json")
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
