package dnsserver

import (
	"fmt"
	"testing"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

func packed(t testing.TB, name string, qtype uint16, edns bool) []byte {
	t.Helper()
	m := query(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	raw, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func queryCount(st Stats, zone, qtype, rcode, transport string) uint64 {
	for _, q := range st.Queries {
		if q.Zone == zone && q.Qtype == qtype && q.Rcode == rcode && q.Transport == transport {
			return q.N
		}
	}
	return 0
}

func colourCount(cs []ColourCount, name string, c control.Colour) uint64 {
	for _, x := range cs {
		if x.Name == name && x.Colour == c {
			return x.N
		}
	}
	return 0
}

func TestStatsCountQueriesAndColours(t *testing.T) {
	src := newTestSource(t) // api: switched to green; web: blue only
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	api := "api." + testZone
	for range 5 {
		if c.reply(packed(t, api, dns.TypeA, true), testClient) == nil {
			t.Fatal("no reply")
		}
	}
	for range 3 {
		c.reply(packed(t, "web."+testZone, dns.TypeAAAA, false), testClient) // NODATA: no colour
		c.reply(packed(t, "nope."+testZone, dns.TypeMX, false), testClient)
		c.reply(packed(t, "example.com.", dns.TypeHINFO, false), testClient)
	}
	c.reply(packed(t, "green."+api, dns.TypeA, false), testClient) // not the live name
	if len(c.entries) == 0 {
		t.Fatal("nothing went through the cache")
	}

	st := s.Stats()
	for _, w := range []struct {
		zone, qtype, rcode string
		n                  uint64
	}{
		{testZone, "A", "NOERROR", 6},
		{testZone, "AAAA", "NOERROR", 3},
		{testZone, "MX", "NXDOMAIN", 3},
		{NoZoneLabel, "OTHER", "REFUSED", 3},
	} {
		if got := queryCount(st, w.zone, w.qtype, w.rcode, "udp"); got != w.n {
			t.Errorf("queries{%s,%s,%s,udp} = %d, want %d (all: %+v)", w.zone, w.qtype, w.rcode, got, w.n, st.Queries)
		}
	}
	if got := colourCount(st.ZoneAnswers, testZone, control.Green); got != 5 {
		t.Errorf("zone answers green = %d, want 5 (%+v)", got, st.ZoneAnswers)
	}
	if got := colourCount(st.ZoneAnswers, testZone, control.Blue); got != 0 {
		t.Errorf("zone answers blue = %d, want 0 (%+v)", got, st.ZoneAnswers)
	}
	if got := colourCount(st.ServiceAnswers, api, control.Green); got != 5 {
		t.Errorf("service answers api green = %d, want 5 (%+v)", got, st.ServiceAnswers)
	}

	// A rollback changes the colour the cached answer of the live name
	// gives: the rebuilt entry counts blue.
	src.apply(t, control.Command{Op: control.OpRollback, Name: api})
	for range 4 {
		c.reply(packed(t, api, dns.TypeA, true), testClient)
	}
	st = s.Stats()
	if g, b := colourCount(st.ServiceAnswers, api, control.Green), colourCount(st.ServiceAnswers, api, control.Blue); g != 5 || b != 4 {
		t.Errorf("after rollback: api green %d blue %d, want 5 and 4", g, b)
	}

	// TCP counts on its own side.
	raw := packed(t, api, dns.TypeA, false)
	reply, _ := s.handle(raw, testClient, true)
	s.countTCP(raw, reply, s.now())
	if got := queryCount(s.Stats(), testZone, "A", "NOERROR", "tcp"); got != 1 {
		t.Errorf("tcp queries = %d, want 1", got)
	}
}

func TestStatsBoundServices(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{MetricsServices: 2}, src)
	c := s.newFastCache()
	for i := range 6 {
		c.reply(packed(t, fmt.Sprintf("svc%d.%s", i, testZone), dns.TypeA, false), testClient)
	}
	st := s.Stats()
	names := map[string]uint64{}
	for _, x := range st.ServiceAnswers {
		names[x.Name] += x.N
	}
	if len(names) != 3 || names[OtherLabel] != 4 {
		t.Errorf("service series %v, want 2 services of 1 answer and %s with 4", names, OtherLabel)
	}
	if !s.StatsService("svc0." + testZone) {
		t.Error("svc0 lost its series")
	}
	if s.StatsService("svc5." + testZone) {
		t.Error("svc5 got a series past the bound")
	}
}

func TestStatsSampleLatency(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	raw := packed(t, "api."+testZone, dns.TypeA, false)
	for range 4 * latencySample {
		c.reply(raw, testClient)
	}
	var n uint64
	for _, b := range s.Stats().Latency {
		n += b
	}
	if n != 4 {
		t.Errorf("%d timed queries of %d, want 4 (one in %d)", n, 4*latencySample, latencySample)
	}
}

// The fast path's hit allocates nothing, counted and timed or not; the
// full handler allocates no more than it did before the counters were
// added (14 times for this query, BenchmarkFullHandler's figure then).
func TestFastPathHitAllocations(t *testing.T) {
	src := fastZone(t)
	s := newTestServer(t, Config{}, src)
	c := s.newFastCache()
	raw := packed(t, "svc2."+testZone, dns.TypeA, true)
	c.reply(raw, testClient)
	if got := testing.AllocsPerRun(1000, func() { c.reply(raw, testClient) }); got != 0 {
		t.Errorf("fast-path hit allocates %v times, want 0", got)
	}
	if got := testing.AllocsPerRun(200, func() { s.handle(raw, testClient, false) }); got > 14 {
		t.Errorf("full handler allocates %v times, want at most 14", got)
	}
	if queryCount(s.Stats(), testZone, "A", "NOERROR", "udp") < 1000 {
		t.Error("the hits were not counted")
	}
}
