package control

import (
	"net/netip"
	"testing"
)

// TestZoneNSAuto: a zone put with NSAuto keeps the flag and the NS set
// and glue the proposer filled in; without any NS it is refused (no member
// has an NS name), and a plain put turns the flag off again.
func TestZoneNSAuto(t *testing.T) {
	c := newChain(t)
	cmd := Command{Op: OpZonePut, Name: "auto.test", Zone: &ZoneSpec{NSAuto: true}}
	if e := cmd.Normalize(); e != nil {
		t.Fatalf("normalize an auto zone without NS: %v", e)
	}
	if len(cmd.Zone.NS) != 0 {
		t.Fatalf("normalize made up NS %v for an auto zone", cmd.Zone.NS)
	}
	if r := c.apply(cmd); CodeOf(r.Err) != CodeInvalid {
		t.Fatalf("auto zone without NS: %v, want invalid", r.Err)
	}
	r := c.must(Command{Op: OpZonePut, Name: "auto.test", Zone: &ZoneSpec{NSAuto: true,
		NS:   []string{"ns-n1.auto.test", "ns-e1.example.net"},
		Glue: map[string][]netip.Addr{"ns-n1.auto.test": addrs("192.0.2.1")}}})
	if !r.Zone.NSAuto || len(r.Zone.NS) != 2 || len(r.Zone.Glue["ns-n1.auto.test."]) != 1 {
		t.Fatalf("auto zone: %+v", r.Zone)
	}
	if z := c.s.Zone("auto.test."); z == nil || !z.NSAuto {
		t.Fatalf("auto zone in the state: %+v", z)
	}
	r = c.must(Command{Op: OpZonePut, Name: "auto.test", Zone: &ZoneSpec{NS: []string{"ns.example.net"}}})
	if r.Zone.NSAuto {
		t.Fatal("a put without ns auto left it on")
	}
}
