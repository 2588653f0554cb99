package control

import (
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// chain applies commands one after another at increasing indexes, failing
// the test on any error.
type chain struct {
	t     *testing.T
	s     *State
	index uint64
	// rules is stamped on every command, as a leader does.
	rules int
}

func newChain(t *testing.T) *chain {
	t.Helper()
	c := &chain{t: t, s: Empty(), rules: RulesVersion}
	c.must(Command{Op: OpZonePut, Name: "bg.example.test.", Zone: &ZoneSpec{
		Glue: map[string][]netip.Addr{"ns1.bg.example.test": addrs("127.0.0.1")},
	}})
	return c
}

func (c *chain) apply(cmd Command) Result {
	c.t.Helper()
	c.index++
	if cmd.Time.IsZero() {
		cmd.Time = t0.Add(time.Duration(c.index) * time.Second)
	}
	if cmd.Actor == "" {
		cmd.Actor = "test"
	}
	cmd.Rules = c.rules
	ns, r := c.s.Apply(cmd, c.index)
	if r.Err != nil && ns != c.s {
		c.t.Fatalf("%s %s failed (%v) but changed the state", cmd.Op, cmd.Name, r.Err)
	}
	c.s = ns
	return r
}

func (c *chain) must(cmd Command) Result {
	c.t.Helper()
	r := c.apply(cmd)
	if r.Err != nil {
		c.t.Fatalf("%s %s: %v", cmd.Op, cmd.Name, r.Err)
	}
	return r
}

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func putAPI(c *chain) Result {
	c.t.Helper()
	return c.must(Command{Op: OpServicePut, Name: "api.bg.example.test", Service: &ServiceSpec{
		TTL: 5, Blue: &Pool{Version: "1.0", Addresses: addrs("10.0.0.12", "10.0.0.11")},
	}})
}

const api = "api.bg.example.test."
