package control

import (
	"fmt"
	"strings"
	"testing"
)

func withQuota(t *testing.T, q Quotas) {
	t.Helper()
	old := quota
	quota = q
	t.Cleanup(func() { quota = old })
}

func TestQuotaServicesZonesTokens(t *testing.T) {
	withQuota(t, Quotas{MaxServices: 2, MaxZones: 2, MaxTokens: 1, MaxStateBytes: 1 << 30})
	c := newChain(t)
	svc := func(n string) Command {
		return Command{Op: OpServicePut, Name: n + ".bg.example.test", Service: &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}}
	}
	c.must(svc("a"))
	c.must(svc("b"))
	before := c.s
	if r := c.apply(svc("c")); CodeOf(r.Err) != CodeQuota || c.s != before {
		t.Fatalf("third service: %v", r.Err)
	}
	c.must(svc("a")) // replacing one is not growing
	c.must(Command{Op: OpZonePut, Name: "z2.test", Zone: &ZoneSpec{NS: []string{"ns.example.net"}}})
	if r := c.apply(Command{Op: OpZonePut, Name: "z3.test", Zone: &ZoneSpec{NS: []string{"ns.example.net"}}}); CodeOf(r.Err) != CodeQuota {
		t.Fatalf("third zone: %v", r.Err)
	}
	c.must(tokenCmd(OpTokenCreate, "t1", "one", RoleRead, "s1"))
	if r := c.apply(tokenCmd(OpTokenCreate, "t2", "two", RoleRead, "s2")); CodeOf(r.Err) != CodeQuota {
		t.Fatalf("second token: %v", r.Err)
	}
}

func TestQuotaStateSize(t *testing.T) {
	withQuota(t, Quotas{MaxServices: 1 << 20, MaxZones: 10, MaxTokens: 10, MaxStateBytes: 64 << 10})
	c := newChain(t)
	var refused *Error
	for i := 0; i < 1000 && refused == nil; i++ {
		r := c.apply(Command{Op: OpServicePut, Name: fmt.Sprintf("s%d.bg.example.test", i),
			Reason: strings.Repeat("r", 500), Service: &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}})
		refused = r.Err
	}
	if CodeOf(refused) != CodeQuota || !strings.Contains(refused.Message, "quota") {
		t.Fatalf("no quota refusal: %v", refused)
	}
	if c.s.Size() > 64<<10 {
		t.Fatalf("state grew past the quota: %d", c.s.Size())
	}
	// The estimate is not below the real encoding.
	b, _ := MarshalState(c.s)
	if int64(len(b)) > c.s.Size()+2048 {
		t.Fatalf("estimate %d is well below the encoding %d", c.s.Size(), len(b))
	}
	// Deleting is always allowed, and makes room.
	c.must(Command{Op: OpServiceDelete, Name: "s0.bg.example.test"})
}

// The size estimate is never below the real encoding, even for long
// fields full of characters JSON escapes.
func TestSizeEstimateCoversEncoding(t *testing.T) {
	c := newChain(t)
	esc := strings.Repeat("<&>\"", 64)
	var pool []string
	for i := 1; i <= MaxPoolAddresses; i++ {
		pool = append(pool, fmt.Sprintf("2001:db8:1234:5678:9abc:def0:1234:%x", i))
	}
	c.must(Command{Op: OpServicePut, Name: api, Reason: esc + esc + esc + esc, Service: &ServiceSpec{
		HealthCheck: &HealthCheck{Type: "http", Port: 80, Path: "/" + esc[:200], Host: "h.example"},
		Blue:        &Pool{Version: strings.Repeat("v", MaxVersionLen), Addresses: addrs(pool...)}}})
	var changes []HealthChange
	for _, a := range pool {
		changes = append(changes, HealthChange{Addr: addrs(a)[0], Status: HealthDown, Detail: esc})
	}
	c.must(Command{Op: OpHealth, Name: api, Health: &HealthSpec{Changes: changes}, Reason: esc})
	c.must(tokenCmd(OpTokenCreate, "t1", esc[:64], RoleRead, "s1", "api.*.bg.example.test"))
	c.must(Command{Op: OpMemberJoin, Name: "n2", Reason: esc, Member: &MemberSpec{RaftAddr: "[2001:db8::2]:7053"}})
	for i := 0; i < 20; i++ {
		c.must(Command{Op: OpFreeze, Name: api, Reason: esc, Actor: esc[:MaxActorLen]})
	}
	b, err := MarshalState(c.s)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) > c.s.Size() {
		t.Fatalf("estimate %d is below the encoding's %d bytes", c.s.Size(), len(b))
	}
	if c.s.Size() > 3*int64(len(b)) {
		t.Fatalf("estimate %d is far above the encoding's %d bytes", c.s.Size(), len(b))
	}
}
