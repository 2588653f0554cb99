package control

import "testing"

func TestAuditRecordsZonesAndMembers(t *testing.T) {
	c := newChain(t) // zone put at index 1
	c.must(Command{Op: OpFreeze, Name: "bg.example.test"})
	c.must(Command{Op: OpMemberJoin, Name: "n4", RequestID: "join-n4", Actor: "ops", OnBehalfOf: "alice",
		Member: &MemberSpec{RaftAddr: "127.0.0.74:7053"}})
	// A retried join with the same request id is recorded once.
	if r := c.apply(Command{Op: OpMemberJoin, Name: "n4", RequestID: "join-n4", Member: &MemberSpec{RaftAddr: "127.0.0.74:7053"}}); !r.Duplicate {
		t.Fatalf("retry: %+v", r)
	}
	// A node that joins again unchanged (at every start) adds nothing.
	c.must(Command{Op: OpMemberJoin, Name: "n4", Member: &MemberSpec{RaftAddr: "127.0.0.74:7053"}})
	c.must(Command{Op: OpMemberRemove, Name: "n4"})
	c.must(Command{Op: OpZoneDelete, Name: "bg.example.test"})
	recs := c.s.Audit(0)
	want := []Op{OpZoneDelete, OpMemberRemove, OpMemberJoin, OpFreeze, OpZonePut}
	if len(recs) != len(want) {
		t.Fatalf("audit %+v", recs)
	}
	for i, op := range want {
		if recs[i].Action != op {
			t.Errorf("record %d: %s, want %s", i, recs[i].Action, op)
		}
	}
	j := recs[2]
	if j.Target != "n4" || j.To != "127.0.0.74:7053" || j.Actor != "ops" || j.OnBehalfOf != "alice" || j.RequestID != "join-n4" || j.Index != 3 {
		t.Fatalf("join record %+v", j)
	}
	if recs[1].From != "127.0.0.74:7053" {
		t.Fatalf("remove record %+v", recs[1])
	}
	if recs[4].Target != "bg.example.test." || recs[4].Time.IsZero() {
		t.Fatalf("zone record %+v", recs[4])
	}
	for _, bad := range []Command{{Op: OpMemberJoin}, {Op: OpMemberJoin, Name: "a b"}, {Op: OpMemberRemove, Name: "x/y"}} {
		if r := c.apply(bad); CodeOf(r.Err) != CodeInvalid {
			t.Errorf("%+v: %v", bad, r.Err)
		}
	}
}

func TestAuditSurvivesSnapshot(t *testing.T) {
	c := newChain(t)
	c.must(Command{Op: OpMemberJoin, Name: "n4", Member: &MemberSpec{RaftAddr: "10.0.0.4:7053"}})
	b, err := MarshalState(c.s)
	if err != nil {
		t.Fatal(err)
	}
	r, err := UnmarshalState(b)
	if err != nil {
		t.Fatal(err)
	}
	if a := r.Audit(0); len(a) != 2 || a[0].Target != "n4" {
		t.Fatalf("audit after restore %+v", a)
	}
	ns, _ := r.Apply(Command{Op: OpMemberJoin, Name: "n4", Member: &MemberSpec{RaftAddr: "10.0.0.4:7053"}}, r.Index()+1)
	if len(ns.Audit(0)) != 2 {
		t.Fatal("a restored state forgot the recorded membership")
	}
	if r.Size() != c.s.Size() {
		t.Fatalf("size estimate %d after restore, %d before", r.Size(), c.s.Size())
	}
}
