package cluster

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

func commandLog(t *testing.T, index uint64, cmd control.Command) *raft.Log {
	t.Helper()
	b, err := encodeCommandEntry(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Type: raft.LogCommand, Data: b}
}

func memberLog(t *testing.T, index uint64, op memberOp) *raft.Log {
	t.Helper()
	b, err := encodeMemberEntry(op)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Type: raft.LogCommand, Data: b}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestFSMApplySnapshotRestore(t *testing.T) {
	var changes int
	f := newFSM(func(*control.State) { changes++ }, testLogger())
	logs := []*raft.Log{
		commandLog(t, 3, zonePut()),
		memberLog(t, 4, memberOp{Op: memberSet, Member: Member{ID: "n1", HTTPAddr: "http://127.0.0.1:1", DNSAddr: "127.0.0.1:2"}}),
		commandLog(t, 5, servicePut()),
		commandLog(t, 6, deploy("2.0", "10.0.0.21")),
		commandLog(t, 7, lifecycle(control.OpSwitch)),
	}
	for _, l := range logs {
		switch r := f.Apply(l).(type) {
		case control.Result:
			if r.Err != nil {
				t.Fatalf("index %d: %v", l.Index, r.Err)
			}
		case error:
			t.Fatalf("index %d: %v", l.Index, r)
		}
	}
	if changes != 4 {
		t.Errorf("OnChange called %d times, want 4", changes)
	}
	if got := f.applied.Load(); got != 7 {
		t.Errorf("applied %d, want 7", got)
	}
	// A domain failure is a value and changes nothing.
	before := f.state.Load()
	bad := lifecycle(control.OpSwitch)
	bad.ExpectRevision = 3
	r, ok := f.Apply(commandLog(t, 8, bad)).(control.Result)
	if !ok || r.Err == nil || r.Err.Code != control.CodeConflict {
		t.Fatalf("stale expect_revision: got %+v", r)
	}
	if f.state.Load() != before || changes != 4 {
		t.Error("a failed command changed the state")
	}
	// Malformed entries change nothing either.
	if _, ok := f.Apply(&raft.Log{Index: 9, Type: raft.LogCommand, Data: []byte{0x7f, '{'}}).(error); !ok {
		t.Error("unknown entry tag accepted")
	}
	if r, ok := f.Apply(&raft.Log{Index: 10, Type: raft.LogCommand, Data: []byte{entryCommand, '{'}}).(control.Result); !ok || r.Err == nil {
		t.Error("undecodable command accepted")
	}

	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil || !sink.closed {
		t.Fatalf("persist: %v (closed %v)", err, sink.closed)
	}
	g := newFSM(nil, testLogger())
	if err := g.Restore(nopCloser{bytes.NewReader(sink.Bytes())}); err != nil {
		t.Fatal(err)
	}
	if g.applied.Load() != 10 {
		t.Errorf("restored applied %d, want 10", g.applied.Load())
	}
	if m := g.Members()["n1"]; m.HTTPAddr != "http://127.0.0.1:1" || m.DNSAddr != "127.0.0.1:2" {
		t.Errorf("restored member %+v", m)
	}
	a, _ := control.MarshalState(f.state.Load())
	b, _ := control.MarshalState(g.state.Load())
	if !bytes.Equal(a, b) {
		t.Errorf("restored state differs:\n%s\n%s", a, b)
	}
	st := g.state.Load()
	if activeOf(st) != control.Green {
		t.Errorf("restored active %q, want green", activeOf(st))
	}
	if h, _ := st.History(testSvc, 0); len(h) != 3 {
		t.Errorf("restored history has %d records, want 3", len(h))
	}
}

func TestFSMMemberDelete(t *testing.T) {
	f := newFSM(nil, testLogger())
	f.Apply(memberLog(t, 1, memberOp{Op: memberSet, Member: Member{ID: "n1", HTTPAddr: "http://a"}}))
	f.Apply(memberLog(t, 2, memberOp{Op: memberSet, Member: Member{ID: "n2", HTTPAddr: "http://b"}}))
	f.Apply(memberLog(t, 3, memberOp{Op: memberDelete, Member: Member{ID: "n1"}}))
	if _, ok := f.Members()["n1"]; ok || len(f.Members()) != 1 {
		t.Errorf("members after delete: %+v", f.Members())
	}
	bad, _ := json.Marshal(memberOp{Op: "rename", Member: Member{ID: "n2"}})
	if _, ok := f.Apply(&raft.Log{Index: 4, Type: raft.LogCommand, Data: append([]byte{entryMember}, bad...)}).(error); !ok {
		t.Error("unknown member op accepted")
	}
}

func TestDecodeSnapshotRejectsUnknownFormat(t *testing.T) {
	if _, err := decodeSnapshot(bytes.NewReader([]byte(`{"bgdns_snapshot":99}`))); err == nil {
		t.Error("format 99 accepted")
	}
	if _, err := decodeSnapshot(bytes.NewReader([]byte(`not json`))); err == nil {
		t.Error("garbage accepted")
	}
}
