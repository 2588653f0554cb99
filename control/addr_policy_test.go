package control

import (
	"net/netip"
	"testing"
)

func TestPoolAddressesThatCanNeverServe(t *testing.T) {
	c := newChain(t)
	for _, a := range []string{"0.0.0.0", "0.1.2.3", "::", "169.254.1.1", "fe80::1", "255.255.255.255",
		"240.0.0.1", "224.0.0.1", "239.1.1.1", "ff02::1"} {
		r := c.apply(Command{Op: OpServicePut, Name: "web.bg.example.test", Service: &ServiceSpec{
			Blue: &Pool{Version: "1", Addresses: addrs("10.0.0.1", a)}}})
		if CodeOf(r.Err) != CodeInvalid {
			t.Errorf("put with %s: %v", a, r.Err)
		}
	}
	putAPI(c)
	for _, a := range []string{"169.254.9.9", "::", "ff00::1"} {
		r := c.apply(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs(a)}})
		if CodeOf(r.Err) != CodeInvalid {
			t.Errorf("deploy %s: %v", a, r.Err)
		}
	}
	// Ordinary unicast addresses, documentation ranges and private ones serve.
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("192.0.2.1", "2001:db8::1", "172.16.0.1")}})
}

func TestLoopbackNeedsAllowLoopback(t *testing.T) {
	c := newChain(t)
	put := func(a string) Result {
		return c.apply(Command{Op: OpServicePut, Name: "web.bg.example.test", Service: &ServiceSpec{
			Blue: &Pool{Version: "1", Addresses: addrs(a)}}})
	}
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::1"} {
		if r := put(a); CodeOf(r.Err) != CodeInvalid {
			t.Errorf("%s without allow_loopback: %v", a, r.Err)
		}
	}
	putAPI(c)
	if r := c.apply(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("127.0.0.2")}}); CodeOf(r.Err) != CodeInvalid {
		t.Errorf("deploy loopback: %v", r.Err)
	}
	zone := Command{Op: OpZonePut, Name: "bg.example.test", Zone: &ZoneSpec{AllowLoopback: true,
		Glue: map[string][]netip.Addr{"ns1.bg.example.test": addrs("127.0.0.1")}}}
	c.must(zone)
	c.must(Command{Op: OpServicePut, Name: "web.bg.example.test", Service: &ServiceSpec{Blue: &Pool{Version: "1", Addresses: addrs("127.0.0.1", "::1")}}})
	c.must(Command{Op: OpDeploy, Name: api, Deploy: &DeploySpec{Version: "2", Addresses: addrs("127.0.0.2")}})
	// Turning it off while services use loopback is refused.
	zone.Zone = &ZoneSpec{Glue: map[string][]netip.Addr{"ns1.bg.example.test": addrs("127.0.0.1")}}
	if r := c.apply(zone); CodeOf(r.Err) != CodeConflict {
		t.Fatalf("allow_loopback off with loopback services: %v", r.Err)
	}
}
