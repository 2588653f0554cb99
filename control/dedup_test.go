package control

import (
	"fmt"
	"testing"
)

func TestRequestIDAppliedOnce(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("10.0.0.2")}})
	first := c.must(Command{Op: OpSwitch, Name: api, RequestID: "req-1"})
	st := c.s
	again := c.must(Command{Op: OpSwitch, Name: api, RequestID: "req-1"})
	if !again.Duplicate || again.Index != first.Index || again.Service.Revision != first.Service.Revision {
		t.Fatalf("repeat: %+v, first %+v", again, first)
	}
	if c.s != st {
		t.Fatal("a repeated request changed the state")
	}
	if recs, _ := c.s.History(api, 0); len(recs) != 3 {
		t.Fatalf("history has %d records, want 3", len(recs))
	}
	// the same id for another call is a conflict, not a silent replay
	r := c.apply(Command{Op: OpRollback, Name: api, RequestID: "req-1"})
	if r.Err == nil || r.Err.Code != CodeConflict {
		t.Fatalf("reused id for another op: %+v", r.Err)
	}
}

func TestRequestIDMemoryIsBounded(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	n := 2*DedupGeneration + 10
	for i := 0; i < n; i++ {
		c.must(Command{Op: OpServicePut, Name: api, RequestID: fmt.Sprintf("r%d", i),
			Service: &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}})
	}
	d := c.s.requests
	if total := d.cur.Len() + d.prev.Len(); total > 2*DedupGeneration {
		t.Fatalf("remembers %d ids, bound is %d", total, 2*DedupGeneration)
	}
	if d.get(fmt.Sprintf("r%d", n-1)) == nil || d.get(fmt.Sprintf("r%d", n-DedupGeneration)) == nil {
		t.Fatal("recent ids forgotten")
	}
	if d.get("r0") != nil {
		t.Fatal("the oldest id is still remembered")
	}
}

func TestHistoryIsBounded(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	for i := 0; i < 3*MaxHistory; i++ {
		c.must(Command{Op: OpServicePut, Name: api, Reason: fmt.Sprint(i),
			Service: &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}})
	}
	h, _ := c.s.history.Get(api)
	if h.n > 2*MaxHistory {
		t.Fatalf("history keeps %d records", h.n)
	}
	recs, _ := c.s.History(api, 0)
	if len(recs) != MaxHistory || recs[0].Reason != fmt.Sprint(3*MaxHistory-1) {
		t.Fatalf("got %d records, newest %q", len(recs), recs[0].Reason)
	}
	if recs, _ := c.s.History(api, 3); len(recs) != 3 {
		t.Fatalf("limit 3 gave %d", len(recs))
	}
}
