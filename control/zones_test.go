package control

import (
	"net/netip"
	"testing"
)

func TestZonePutDefaultsAndReplace(t *testing.T) {
	c := newChain(t)
	z := c.s.Zone("bg.example.test.")
	if z == nil || z.SOA.MName != "ns1.bg.example.test." || z.SOA.RName != "hostmaster.bg.example.test." ||
		z.SOA.Minimum != DefaultSOAMinimum || len(z.NS) != 1 || z.Serial != 1 {
		t.Fatalf("zone defaults: %+v", z)
	}
	r := c.must(Command{Op: OpZonePut, Name: "BG.Example.Test", Zone: &ZoneSpec{
		SOA: SOA{Minimum: 10}, NS: []string{"ns1.bg.example.test", "ns.other.test"},
		Glue: map[string][]netip.Addr{"ns1.bg.example.test.": addrs("127.0.0.1", "::1")},
	}})
	if r.Zone.Serial != 2 || r.Zone.SOA.Minimum != 10 || len(r.Zone.NS) != 2 {
		t.Fatalf("replaced zone: %+v", r.Zone)
	}
}

func TestZoneErrors(t *testing.T) {
	cases := []struct {
		name string
		cmd  Command
		code Code
	}{
		{"glue for out-of-zone host", Command{Op: OpZonePut, Name: "z.test", Zone: &ZoneSpec{NS: []string{"ns.other.test"},
			Glue: map[string][]netip.Addr{"ns.other.test": addrs("127.0.0.1")}}}, CodeInvalid},
		{"in-zone NS without glue", Command{Op: OpZonePut, Name: "z.test", Zone: &ZoneSpec{NS: []string{"ns1.z.test"}}}, CodeInvalid},
		{"glue for a host that is not an NS", Command{Op: OpZonePut, Name: "z.test", Zone: &ZoneSpec{NS: []string{"ns.other.test"},
			Glue: map[string][]netip.Addr{"ns9.z.test": addrs("127.0.0.1")}}}, CodeInvalid},
		{"bad zone name", Command{Op: OpZonePut, Name: "-bad.test"}, CodeInvalid},
		{"zone below a service", Command{Op: OpZonePut, Name: "x.api.bg.example.test", Zone: &ZoneSpec{NS: []string{"ns.other.test"}}}, CodeConflict},
		{"zone at a service", Command{Op: OpZonePut, Name: "api.bg.example.test", Zone: &ZoneSpec{NS: []string{"ns.other.test"}}}, CodeConflict},
		{"delete zone with services", Command{Op: OpZoneDelete, Name: "bg.example.test"}, CodeConflict},
		{"delete unknown zone", Command{Op: OpZoneDelete, Name: "nope.test"}, CodeNotFound},
		{"zone stale revision", Command{Op: OpZonePut, Name: "bg.example.test", ExpectRevision: 99, Zone: &ZoneSpec{
			Glue: map[string][]netip.Addr{"ns1.bg.example.test": addrs("127.0.0.1")}}}, CodeConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			putAPI(c)
			r := c.apply(tc.cmd)
			if r.Err == nil || r.Err.Code != tc.code {
				t.Fatalf("want %s, got %+v", tc.code, r.Err)
			}
		})
	}
}

func TestZoneDeleteWhenEmpty(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpServiceDelete, Name: api})
	c.must(Command{Op: OpZoneDelete, Name: "bg.example.test"})
	if len(c.s.Zones()) != 0 {
		t.Fatal("zone still there")
	}
}

func TestServiceNaming(t *testing.T) {
	pool := &Pool{Version: "1", Addresses: addrs("10.0.0.1")}
	cases := []struct {
		name, svc string
		code      Code
	}{
		{"no enclosing zone", "api.other.test", CodeInvalid},
		{"the apex itself", "bg.example.test", CodeInvalid},
		{"two labels below the apex", "a.b.bg.example.test", CodeInvalid},
		{"reserved label preview", "preview.bg.example.test", CodeInvalid},
		{"reserved label green", "green.bg.example.test", CodeInvalid},
		{"reserved label _bgdns", "_bgdns.bg.example.test", CodeInvalid},
		{"an NS host", "ns1.bg.example.test", CodeConflict},
		{"label too long", string(make([]byte, 64)) + ".bg.example.test", CodeInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			r := c.apply(Command{Op: OpServicePut, Name: tc.svc, Service: &ServiceSpec{Blue: pool}})
			if r.Err == nil || r.Err.Code != tc.code {
				t.Fatalf("want %s, got %+v", tc.code, r.Err)
			}
		})
	}
}

func TestServicePutValidation(t *testing.T) {
	cases := []struct {
		name string
		spec *ServiceSpec
	}{
		{"no active pool", &ServiceSpec{}},
		{"active green without green pool", &ServiceSpec{Active: Green, Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}},
		{"unknown active colour", &ServiceSpec{Active: "red", Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}},
		{"ttl too high", &ServiceSpec{TTL: MaxTTL + 1, Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1")}}},
		{"unspecified address", &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("0.0.0.0")}}},
		{"missing version", &ServiceSpec{Blue: &Pool{Addresses: addrs("10.0.0.1")}}},
		{"invalid address", &ServiceSpec{Blue: &Pool{Version: "1", Addresses: []netip.Addr{{}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			r := c.apply(Command{Op: OpServicePut, Name: api, Service: tc.spec})
			if r.Err == nil || r.Err.Code != CodeInvalid {
				t.Fatalf("want invalid, got %+v", r.Err)
			}
		})
	}
	c := newChain(t)
	if r := c.apply(Command{Op: OpServicePut, Name: api}); r.Err == nil || r.Err.Code != CodeBadRequest {
		t.Fatalf("missing body: %+v", r.Err)
	}
}

func TestServicePutReplaceAndDelete(t *testing.T) {
	c := newChain(t)
	putAPI(c)
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("10.0.0.2")}})
	r := c.must(Command{Op: OpServicePut, Name: api, Service: &ServiceSpec{TTL: 30, Active: Green,
		Blue:  &Pool{Version: "1", Addresses: addrs("10.0.0.1")},
		Green: &Pool{Version: "2", Addresses: addrs("10.0.0.2")}}})
	if r.Service.State != PhaseStable || r.Service.Active != Green || r.Service.TTL != 30 {
		t.Fatalf("replace: %+v", r.Service)
	}
	c.must(Command{Op: OpServiceDelete, Name: api})
	if c.s.Service(api) != nil || c.s.ServiceCount() != 0 {
		t.Fatal("service still there")
	}
	recs, ok := c.s.History(api, 0)
	if !ok || recs[0].Action != OpServiceDelete {
		t.Fatalf("history of a deleted service is kept: %v %v", ok, recs)
	}
}
