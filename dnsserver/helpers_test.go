package dnsserver

import (
	"net/netip"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// fakeSource is a Source (and a StaleSource) whose state, serving and
// stale flags tests swap.
type fakeSource struct {
	st      atomic.Pointer[control.State]
	serving atomic.Bool
	stale   atomic.Bool
	index   atomic.Uint64
}

func newSource(st *control.State) *fakeSource {
	f := &fakeSource{}
	f.st.Store(st)
	f.serving.Store(true)
	f.index.Store(st.Index())
	return f
}

func (f *fakeSource) State() *control.State { return f.st.Load() }
func (f *fakeSource) Serving() bool         { return f.serving.Load() }
func (f *fakeSource) Stale() bool           { return f.stale.Load() }

// apply applies cmd at the next index and publishes the new state.
func (f *fakeSource) apply(t testing.TB, cmd control.Command) {
	t.Helper()
	if cmd.Time.IsZero() {
		cmd.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	st, res := f.st.Load().Apply(cmd, f.index.Add(1))
	if res.Err != nil {
		t.Fatalf("apply %s %s: %v", cmd.Op, cmd.Name, res.Err)
	}
	f.st.Store(st)
}

func addrs(t testing.TB, s ...string) []netip.Addr {
	t.Helper()
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// testZone is the zone every test starts from.
const testZone = "bg.example.test."

// newTestSource builds the state the table tests answer from:
//
//	1 zone bg.example.test. (NS ns1.bg.example.test. with glue, ns2.elsewhere.test.)
//	2 api: blue 1.0 10.0.0.11 10.0.0.12, ttl 5
//	3 deploy 2.0 10.0.0.21 2001:db8::21 onto green
//	4 switch to green (validating)
//	5 web: blue only, TXT off
func newTestSource(t testing.TB) *fakeSource {
	t.Helper()
	f := newSource(control.Empty())
	f.apply(t, control.Command{Op: control.OpZonePut, Name: testZone, Zone: &control.ZoneSpec{
		NS:   []string{"ns1.bg.example.test.", "ns2.elsewhere.test."},
		Glue: map[string][]netip.Addr{"ns1.bg.example.test.": addrs(t, "192.0.2.53", "2001:db8::53")},
	}})
	f.apply(t, control.Command{Op: control.OpServicePut, Name: "api." + testZone, Service: &control.ServiceSpec{
		TTL: 5, Blue: &control.Pool{Version: "1.0", Addresses: addrs(t, "10.0.0.11", "10.0.0.12")},
	}})
	f.apply(t, control.Command{Op: control.OpDeploy, Name: "api." + testZone, Deploy: &control.DeploySpec{
		Version: "2.0", Addresses: addrs(t, "10.0.0.21", "2001:db8::21"),
	}})
	f.apply(t, control.Command{Op: control.OpSwitch, Name: "api." + testZone})
	f.apply(t, control.Command{Op: control.OpServicePut, Name: "web." + testZone, Service: &control.ServiceSpec{
		TTL: 30, NoTXT: true, Blue: &control.Pool{Version: "1", Addresses: addrs(t, "10.1.0.1")},
	}})
	return f
}

func newTestServer(t testing.TB, cfg Config, src Source) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "n1"
	}
	if cfg.RRLRate == 0 {
		cfg.RRLRate = -1 // tests send thousands of queries from one client; they ask for a limiter when they test it
	}
	return New(cfg, src)
}

var testClient = netip.MustParseAddrPort("198.51.100.7:40000")

// exchange sends req through the packet handler as if it came from
// testClient and returns the decoded reply (nil when dropped) and its size.
func exchange(t testing.TB, s *Server, req *dns.Msg, tcp bool) (*dns.Msg, int) {
	t.Helper()
	raw, err := req.Pack()
	if err != nil {
		t.Fatalf("pack query: %v", err)
	}
	b, x := s.handle(raw, testClient, tcp)
	if x != nil {
		t.Fatalf("unexpected transfer for %v", req.Question)
	}
	if b == nil {
		return nil, 0
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	return m, len(b)
}

func query(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

// rrStrings parses zone-text records and returns their canonical text,
// sorted, so answers compare independent of order.
func rrStrings(t testing.TB, in []string) []string {
	t.Helper()
	out := make([]string, 0, len(in))
	for _, s := range in {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", s, err)
		}
		out = append(out, rr.String())
	}
	sort.Strings(out)
	return out
}

func sectionStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, rr.String())
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
