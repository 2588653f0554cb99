package dnsserver

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// fastZone builds a generated zone for the fast-path tests: services with
// and without IPv6, a deployed green pool, a switched service and one with
// TXT off, on top of newTestSource's zone.
func fastZone(t testing.TB) *fakeSource {
	src := newTestSource(t)
	for i := range 20 {
		name := fmt.Sprintf("svc%d.%s", i, testZone)
		blue := addrs(t, fmt.Sprintf("10.2.0.%d", i+1))
		if i%5 == 0 {
			blue = append(blue, netip.MustParseAddr(fmt.Sprintf("2001:db8::b:%d", i+1)))
		}
		spec := &control.ServiceSpec{TTL: 5, NoTXT: i%7 == 3, Blue: &control.Pool{Version: "1.0", Addresses: blue}}
		if i%2 == 0 {
			spec.Green = &control.Pool{Version: "2.0", Addresses: addrs(t, fmt.Sprintf("10.3.0.%d", i+1))}
		}
		src.apply(t, control.Command{Op: control.OpServicePut, Name: name, Service: spec})
		if i%4 == 0 {
			src.apply(t, control.Command{Op: control.OpSwitch, Name: name})
		}
	}
	return src
}

// fastNames are every name of the zone plus names that do not exist, out
// of zone, and under a name that exists.
func fastNames(st *control.State) []string {
	names := []string{testZone, "ns1." + testZone, "nx." + testZone, "a.b.nx." + testZone,
		"elsewhere.test.", "example.test.", "x.ns1." + testZone}
	for _, svc := range st.Services() {
		for _, p := range []string{"", "blue.", "green.", "preview.", "_bgdns.", "nothing."} {
			names = append(names, p+svc.Name)
		}
	}
	return names
}

var fastTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeSOA, dns.TypeNS,
	dns.TypeANY, dns.TypeMX, dns.TypeCNAME, dns.TypeSRV, dns.TypeHINFO}

// spellings returns name in lower case, upper case and mixed case.
func spellings(name string) []string {
	mixed := []byte(name)
	for i := range mixed {
		if i%2 == 0 {
			mixed[i] = byte(strings.ToUpper(string(mixed[i]))[0])
		}
	}
	return []string{name, strings.ToUpper(name), string(mixed)}
}

// variants are the request shapes each question is sent in.
func variants(name string, qtype uint16) []*dns.Msg {
	var out []*dns.Msg
	for _, edns := range []int{-1, 512, 1232, 4096} {
		for _, do := range []bool{false, true} {
			for _, rd := range []bool{false, true} {
				if edns < 0 && do {
					continue
				}
				m := query(name, qtype)
				m.Id = 0x1234
				m.RecursionDesired = rd
				m.CheckingDisabled = do
				if edns >= 0 {
					m.SetEdns0(uint16(edns), do)
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// checkAll sends every name, type, case and request shape through a fast
// cache twice (the first fills it, the second hits) and compares each
// reply byte for byte with the full handler's.
func checkAll(t *testing.T, s *Server, c *fastCache, st *control.State) (hits int) {
	t.Helper()
	id := uint16(1)
	for _, name := range fastNames(st) {
		for _, qtype := range fastTypes {
			for _, sp := range spellings(name) {
				for _, m := range variants(sp, qtype) {
					for range 2 {
						id++
						m.Id = id
						raw, err := m.Pack()
						if err != nil {
							t.Fatal(err)
						}
						want, _ := s.handle(raw, testClient, false)
						got := c.reply(raw, testClient)
						if !bytes.Equal(got, want) {
							t.Fatalf("%s %s (edns %v rd %v): fast reply differs\n got %x\nwant %x",
								sp, dns.TypeToString[qtype], m.IsEdns0() != nil, m.RecursionDesired, got, want)
						}
					}
				}
			}
		}
	}
	return len(c.entries)
}

func TestFastPathMatchesHandler(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	if n := checkAll(t, s, c, src.State()); n == 0 {
		t.Fatal("nothing was cached")
	}
	// A change to the State must be visible at once.
	src.apply(t, control.Command{Op: control.OpRollback, Name: "svc0." + testZone})
	src.apply(t, control.Command{Op: control.OpSwitch, Name: "svc2." + testZone})
	src.apply(t, control.Command{Op: control.OpServiceDelete, Name: "svc1." + testZone})
	checkAll(t, s, c, src.State())
	// A deploy, a replaced service and a changed zone (SOA, NS) too.
	src.apply(t, control.Command{Op: control.OpDeploy, Name: "svc3." + testZone, Deploy: &control.DeploySpec{
		Version: "3.0", Addresses: addrs(t, "10.9.0.3", "2001:db8::9:3")}})
	src.apply(t, control.Command{Op: control.OpServicePut, Name: "svc5." + testZone, Service: &control.ServiceSpec{
		TTL: 60, Blue: &control.Pool{Version: "9", Addresses: addrs(t, "10.9.0.5")}}})
	src.apply(t, control.Command{Op: control.OpZonePut, Name: testZone, Zone: &control.ZoneSpec{
		SOA:  control.SOA{Minimum: 17, TTL: 120},
		NS:   []string{"ns1.bg.example.test.", "ns3.elsewhere.test."},
		Glue: map[string][]netip.Addr{"ns1.bg.example.test.": addrs(t, "192.0.2.54")},
	}})
	checkAll(t, s, c, src.State())
	// Not serving: SERVFAIL, as the handler says.
	src.serving.Store(false)
	checkAll(t, s, c, src.State())
	src.serving.Store(true)
	checkAll(t, s, c, src.State())
	// Stale: marked answers, TTLs capped, as the handler says; and back.
	src.stale.Store(true)
	if n := checkAll(t, s, c, src.State()); n == 0 {
		t.Fatal("nothing cached while stale")
	}
	src.apply(t, control.Command{Op: control.OpSwitch, Name: "svc6." + testZone})
	checkAll(t, s, c, src.State())
	src.stale.Store(false)
	checkAll(t, s, c, src.State())
}

// TestFastPathMatchesHandlerWhenStale starts stale, with a StaleTTL other
// than the default, and compares every reply.
func TestFastPathMatchesHandlerWhenStale(t *testing.T) {
	src := fastZone(t)
	src.stale.Store(true)
	s := newTestServer(t, Config{StaleTTL: 3 * time.Second}, src)
	c := s.newFastCache()
	checkAll(t, s, c, src.State())
	src.stale.Store(false)
	checkAll(t, s, c, src.State())
}

func TestFastPathCachesCommonQueries(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	for _, name := range []string{"svc2." + testZone, "nx." + testZone} {
		m := query(name, dns.TypeA)
		raw, _ := m.Pack()
		c.reply(raw, testClient)
		key := append([]byte(nil), raw[2:]...)
		if c.entries[string(key)] == nil {
			t.Fatalf("%s A was not cached", name)
		}
		m.SetEdns0(1232, false)
		raw, _ = m.Pack()
		c.reply(raw, testClient)
		if c.entries[string(raw[2:])] == nil {
			t.Fatalf("%s A with EDNS was not cached", name)
		}
	}
}

func TestFastPathLeavesUnusualQueriesToTheHandler(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	nsid := query("svc2."+testZone, dns.TypeA)
	nsid.SetEdns0(1232, false)
	nsid.IsEdns0().Option = append(nsid.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	axfr := query(testZone, dns.TypeAXFR)
	chaos := query("id.server.", dns.TypeTXT)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	two := query("svc2."+testZone, dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	notify := query(testZone, dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	badVers := query("svc2."+testZone, dns.TypeA)
	badVers.SetEdns0(1232, false)
	badVers.IsEdns0().SetVersion(1)
	for _, m := range []*dns.Msg{nsid, axfr, chaos, two, notify, badVers} {
		raw, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := plainQuery(raw); ok {
			t.Errorf("%v taken as a plain query", m.Question)
		}
		want, _ := s.handle(raw, testClient, false)
		if got := c.reply(raw, testClient); !bytes.Equal(got, want) {
			t.Errorf("%v: reply differs from the handler's", m.Question)
		}
	}
	if len(c.entries) != 0 {
		t.Fatalf("%d unusual replies cached", len(c.entries))
	}
	// Garbage and truncated packets are the handler's too.
	raw, _ := query("svc2."+testZone, dns.TypeA).Pack()
	for i := range raw {
		if _, ok := plainQuery(raw[:i]); ok {
			t.Fatalf("truncated packet of %d bytes taken as plain", i)
		}
	}
	if _, ok := plainQuery(append(raw, 0)); ok {
		t.Fatal("trailing byte accepted")
	}
}

// TestFastPathWithRateLimiting: with the limiter on, the fast path still
// caches, and its replies (answered, slipped, dropped) are the handler's
// one for one: each response is counted once, hit or miss.
func TestFastPathWithRateLimiting(t *testing.T) {
	src := fastZone(t)
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	fast := newTestServer(t, Config{RRLRate: 5, RRLSlip: 2}, src)
	full := newTestServer(t, Config{RRLRate: 5, RRLSlip: 2}, src)
	fast.clock, full.clock = clock, clock
	c := fast.newFastCache()
	a, _ := query("svc2."+testZone, dns.TypeA).Pack()
	nx, _ := query("NX."+testZone, dns.TypeA).Pack()
	answered := 0
	for second := range 3 {
		now = now.Add(time.Duration(second) * time.Second)
		for i := range 30 {
			raw := a
			if i%3 == 0 {
				raw = nx
			}
			want, _ := full.handle(raw, testClient, false)
			got := c.reply(raw, testClient)
			if !bytes.Equal(got, want) {
				t.Fatalf("second %d query %d: fast reply %x, handler %x", second, i, got, want)
			}
			if m := new(dns.Msg); got != nil && m.Unpack(got) == nil && !m.Truncated {
				answered++
			}
		}
	}
	if answered != 15 {
		t.Errorf("%d answered in 3 seconds at 5 per second", answered)
	}
	if len(c.entries) == 0 {
		t.Fatal("nothing cached while rate limiting is on")
	}
}

func BenchmarkFastPathHit(b *testing.B) {
	src := fastZone(b)
	s := newTestServer(b, Config{}, src)
	c := s.newFastCache()
	m := query("svc2."+testZone, dns.TypeA)
	m.SetEdns0(1232, false)
	raw, _ := m.Pack()
	c.reply(raw, testClient)
	b.ReportAllocs()
	for b.Loop() {
		c.reply(raw, testClient)
	}
}

// BenchmarkFastPathHitRRL is BenchmarkFastPathHit with the rate limiter
// on (at a rate the benchmark never reaches): the cost of counting.
func BenchmarkFastPathHitRRL(b *testing.B) {
	src := fastZone(b)
	s := newTestServer(b, Config{RRLRate: 1 << 30}, src)
	s.rrlClock.sec.Store(time.Now().Unix()) // as Start sets it going
	c := s.newFastCache()
	m := query("svc2."+testZone, dns.TypeA)
	m.SetEdns0(1232, false)
	raw, _ := m.Pack()
	c.reply(raw, testClient)
	b.ReportAllocs()
	for b.Loop() {
		if c.reply(raw, testClient) == nil {
			b.Fatal("dropped")
		}
	}
}

// BenchmarkFastPathHitStale is BenchmarkFastPathHit while the Source is
// stale: stale replies are cached like the others.
func BenchmarkFastPathHitStale(b *testing.B) {
	src := fastZone(b)
	src.stale.Store(true)
	s := newTestServer(b, Config{}, src)
	c := s.newFastCache()
	m := query("svc2."+testZone, dns.TypeA)
	m.SetEdns0(1232, false)
	raw, _ := m.Pack()
	c.reply(raw, testClient)
	b.ReportAllocs()
	for b.Loop() {
		c.reply(raw, testClient)
	}
}

func BenchmarkFullHandler(b *testing.B) {
	src := fastZone(b)
	s := newTestServer(b, Config{}, src)
	m := query("svc2."+testZone, dns.TypeA)
	m.SetEdns0(1232, false)
	raw, _ := m.Pack()
	b.ReportAllocs()
	for b.Loop() {
		s.handle(raw, testClient, false)
	}
}

func TestFastPathPatchesCase(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	for _, name := range []string{"svc2." + testZone, "nx." + testZone, "preview.svc2." + testZone} {
		lowerRaw, _ := query(name, dns.TypeA).Pack()
		c.reply(lowerRaw, testClient)
		upperRaw, _ := query(strings.ToUpper(name), dns.TypeA).Pack()
		c.reply(upperRaw, testClient)
		e := c.entries[string(lowerRaw[2:])]
		if e == nil || e.cases == caseUnknown {
			t.Fatalf("%s: entry %+v, want the case decided", name, e)
		}
		// Either the lower-case entry is patched, or (when compression
		// makes the reply depend on the case) the spelling gets its own.
		c.reply(upperRaw, testClient)
		if e.cases == caseExact && c.entries[string(upperRaw[2:])] == nil {
			t.Fatalf("%s: no entry for the upper-case spelling", name)
		}
		want, _ := s.handle(upperRaw, testClient, false)
		if got := c.reply(upperRaw, testClient); !bytes.Equal(got, want) {
			t.Fatalf("%s: reply differs", name)
		}
	}
}

func TestFastPathKeepsOtherServicesAcrossChanges(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	ask := func(name string) []byte {
		raw, _ := query(name, dns.TypeA).Pack()
		return bytes.Clone(c.reply(raw, testClient))
	}
	key := func(name string) string {
		raw, _ := query(name, dns.TypeA).Pack()
		return string(raw[2:])
	}
	a2, a4, nx := "svc2."+testZone, "svc4."+testZone, "nx."+testZone
	ask(a2)
	ask(a4)
	ask(nx)
	e4, eNX := c.entries[key(a4)], c.entries[key(nx)]
	if e4 == nil || e4.svc == nil || eNX == nil || eNX.svc != nil {
		t.Fatalf("dependencies: svc4 %+v, nx %+v", e4, eNX)
	}
	before := ask(a2)
	src.apply(t, control.Command{Op: control.OpSwitch, Name: a2})
	if after := ask(a2); bytes.Equal(after, before) {
		t.Fatal("svc2 still answers its old colour after the switch")
	}
	ask(a4)
	ask(nx)
	if c.entries[key(a4)] != e4 || e4.st.Value() != src.State() {
		t.Fatal("svc4's entry was rebuilt although svc4 did not change")
	}
	if c.entries[key(nx)] == eNX {
		t.Fatal("the NXDOMAIN entry (SOA serial moved) was kept")
	}
}

func TestFastPathDoesNotKeepOldStates(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	for _, n := range []string{"svc2.", "svc4.", "nx."} {
		raw, _ := query(n+testZone, dns.TypeA).Pack()
		c.reply(raw, testClient)
	}
	old := weak.Make(src.State())
	src.apply(t, control.Command{Op: control.OpSwitch, Name: "svc2." + testZone})
	raw, _ := query("svc6."+testZone, dns.TypeA).Pack()
	c.reply(raw, testClient) // the cache moves on to the new State
	runtime.GC()
	if old.Value() != nil {
		t.Fatal("the cache keeps the previous State alive")
	}
}

// FuzzFastPath feeds arbitrary packets to a fast cache, each twice (the
// second may be answered from what the first left behind), and requires
// the handler's reply every time.
func FuzzFastPath(f *testing.F) {
	for _, m := range []*dns.Msg{query("svc2."+testZone, dns.TypeA), query("SVC4."+testZone, dns.TypeAAAA),
		query("nx."+testZone, dns.TypeTXT), query(testZone, dns.TypeSOA)} {
		raw, _ := m.Pack()
		f.Add(raw)
		m.SetEdns0(1232, true)
		raw, _ = m.Pack()
		f.Add(raw)
	}
	src := fastZone(f)
	s := newTestServer(f, Config{}, src)
	c := s.newFastCache()
	f.Fuzz(func(t *testing.T, raw []byte) {
		for range 2 {
			want, _ := s.handle(raw, testClient, false)
			if got := c.reply(raw, testClient); !bytes.Equal(got, want) {
				t.Fatalf("packet %x: fast reply %x, handler %x", raw, got, want)
			}
		}
	})
}
