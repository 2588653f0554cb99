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
