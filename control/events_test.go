package control

import (
	"fmt"
	"testing"
)

// eventsChain: a zone (1), two services (2, 3), a switch of api (4), a
// member join (5), a deploy of web (6).
func eventsChain(t *testing.T) *chain {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpServicePut, Name: "web.bg.example.test.", Service: &ServiceSpec{
		TTL: 5, Blue: &Pool{Version: "1.0", Addresses: addrs("10.0.0.21")},
		Green: &Pool{Version: "1.1", Addresses: addrs("10.0.0.22")},
	}})
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2.0", Addresses: addrs("10.0.0.31")}})
	c.must(Command{Op: OpMemberJoin, Name: "n4", Member: &MemberSpec{RaftAddr: "127.0.0.74:7053"}})
	c.must(Command{Op: OpSwitch, Name: "web.bg.example.test."})
	return c
}

func describe(evs []Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("%d:%s:%s:%s ", e.Record.Index, e.Kind, e.Name, e.Record.Action)
	}
	return s
}

func TestEventsInIndexOrderAcrossHistoriesAndAudit(t *testing.T) {
	c := eventsChain(t)
	got := describe(c.s.Events(EventQuery{}))
	want := "1:zone:bg.example.test.:zone.put 2:service:api.bg.example.test.:service.put " +
		"3:service:web.bg.example.test.:service.put 4:service:api.bg.example.test.:deploy " +
		"5:member:n4:member.join 6:service:web.bg.example.test.:switch "
	if got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	if got := describe(c.s.Events(EventQuery{After: 3})); got != "4:service:api.bg.example.test.:deploy 5:member:n4:member.join 6:service:web.bg.example.test.:switch " {
		t.Fatalf("after 3: %s", got)
	}
	if got := c.s.Events(EventQuery{After: 6}); len(got) != 0 {
		t.Fatalf("after the last index: %s", describe(got))
	}
	sw := c.s.Events(EventQuery{After: 5})[0].Record
	if sw.From != "blue" || sw.To != "green" || sw.Version != "1.1" || sw.Actor != "test" {
		t.Fatalf("switch record %+v", sw)
	}
}

func TestEventsLimitOldestOrNewest(t *testing.T) {
	c := eventsChain(t)
	if got := describe(c.s.Events(EventQuery{After: 1, Limit: 2})); got != "2:service:api.bg.example.test.:service.put 3:service:web.bg.example.test.:service.put " {
		t.Fatalf("oldest two after 1: %s", got)
	}
	if got := describe(c.s.Events(EventQuery{Limit: 2, Newest: true})); got != "5:member:n4:member.join 6:service:web.bg.example.test.:switch " {
		t.Fatalf("newest two: %s", got)
	}
}

func TestEventsServiceAndKeepFilters(t *testing.T) {
	c := eventsChain(t)
	if got := describe(c.s.Events(EventQuery{Service: api})); got != "2:service:api.bg.example.test.:service.put 4:service:api.bg.example.test.:deploy " {
		t.Fatalf("api only: %s", got)
	}
	keep := func(e Event) bool { return e.Kind == EventService && e.Name == "web.bg.example.test." }
	if got := describe(c.s.Events(EventQuery{Keep: keep, Limit: 1, Newest: true})); got != "6:service:web.bg.example.test.:switch " {
		t.Fatalf("kept: %s", got)
	}
	// the kept records fill the limit, not the ones dropped
	if got := describe(c.s.Events(EventQuery{Keep: keep, Limit: 1})); got != "3:service:web.bg.example.test.:service.put " {
		t.Fatalf("kept oldest: %s", got)
	}
}

func TestEventsKeepDeletedServiceHistory(t *testing.T) {
	c := eventsChain(t)
	c.must(Command{Op: OpServiceDelete, Name: "web.bg.example.test."})
	evs := c.s.Events(EventQuery{After: 6})
	if got := describe(evs); got != "7:service:web.bg.example.test.:service.delete " {
		t.Fatalf("delete: %s", got)
	}
}

func TestAuditKind(t *testing.T) {
	for op, want := range map[Op]string{OpZonePut: EventZone, OpFreeze: EventZone, OpMemberRemove: EventMember,
		OpTokenCreate: EventToken, OpACLBootstrap: EventToken} {
		if got := AuditKind(op); got != want {
			t.Errorf("%s: %s, want %s", op, got, want)
		}
	}
}

// The recent list and the walk of every history give the same events:
// after a snapshot (which does not carry the list) a reader from before
// the snapshot's index is served from the histories, one from after it
// from the list.
func TestEventsRecentListAndFullWalkAgree(t *testing.T) {
	c := eventsChain(t)
	raw, err := MarshalState(c.s)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := UnmarshalState(raw)
	if err != nil {
		t.Fatal(err)
	}
	if restored.recentCovers(0) || !restored.recentCovers(c.s.Index()) || !c.s.recentCovers(0) {
		t.Fatalf("coverage: restored from %d, live from %d", restored.recentFrom, c.s.recentFrom)
	}
	for _, q := range []EventQuery{{}, {After: 2}, {Limit: 2, Newest: true}, {After: 1, Limit: 3}} {
		if a, b := describe(c.s.Events(q)), describe(restored.Events(q)); a != b {
			t.Errorf("%+v: list gives %s, histories %s", q, a, b)
		}
	}
	// new records after the restore come from the list
	c.s = restored
	c.must(Command{Op: OpRollback, Name: "web.bg.example.test."})
	if got := describe(c.s.Events(EventQuery{After: 6})); got != "7:service:web.bg.example.test.:rollback " {
		t.Fatalf("after the restore: %s", got)
	}
	if got := describe(c.s.Events(EventQuery{After: 5})); got != "6:service:web.bg.example.test.:switch 7:service:web.bg.example.test.:rollback " {
		t.Fatalf("across the restore: %s", got)
	}
}

// Past twice RecentEvents records the list keeps the newest RecentEvents;
// older readers are served from the histories.
func TestEventsRecentListTrims(t *testing.T) {
	c := newChain(t) // zone at 1
	for i := range 2*RecentEvents + 1 {
		c.must(Command{Op: OpServicePut, Name: fmt.Sprintf("s%d.bg.example.test.", i), Service: &ServiceSpec{
			TTL: 5, Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}})
	}
	last := c.s.Index()
	// trimmed at the record 2*RecentEvents+1 (index last-1), one added since
	if c.s.recent.n != RecentEvents+1 || c.s.recentFrom != last-RecentEvents-1 {
		t.Fatalf("recent holds %d from %d (last %d)", c.s.recent.n, c.s.recentFrom, last)
	}
	if got := c.s.Events(EventQuery{After: last - 2}); len(got) != 2 || got[1].Record.Index != last {
		t.Fatalf("newest two: %s", describe(got))
	}
	old := c.s.Events(EventQuery{Limit: 2})
	if describe(old) != "1:zone:bg.example.test.:zone.put 2:service:s0.bg.example.test.:service.put " {
		t.Fatalf("oldest two, from the histories: %s", describe(old))
	}
	if got := c.s.Events(EventQuery{After: last - RecentEvents - 5, Limit: 10}); len(got) != 10 || got[0].Record.Index != last-RecentEvents-4 {
		t.Fatalf("across the trimmed edge: %s", describe(got))
	}
}
