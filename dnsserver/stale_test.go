package dnsserver

import (
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// staleEDE returns the Extended DNS Errors of m's OPT record.
func staleEDE(m *dns.Msg) []uint16 {
	var out []uint16
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				out = append(out, e.InfoCode)
			}
		}
	}
	return out
}

// maxTTL is the largest TTL of m's records (the OPT record aside).
func maxTTL(m *dns.Msg) (ttl uint32, n int) {
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			n++
			ttl = max(ttl, rr.Header().Ttl)
		}
	}
	return ttl, n
}

// TestStaleAnswers: while the Source is stale (and serving), every answer
// about our zones carries Extended DNS Error 3 when the query has EDNS,
// and no TTL above StaleTTL in any section; names elsewhere, CHAOS and a
// node that is not serving answer as before.
func TestStaleAnswers(t *testing.T) {
	src := newTestSource(t)
	src.stale.Store(true)
	for _, cfg := range []struct {
		staleTTL time.Duration
		cap      uint32
	}{{0, 1}, {3 * time.Second, 3}} {
		s := newTestServer(t, Config{StaleTTL: cfg.staleTTL}, src)
		for _, c := range []struct {
			name  string
			qtype uint16
			rcode int
		}{
			{"api." + testZone, dns.TypeA, dns.RcodeSuccess},    // answer, TTL 5
			{"web." + testZone, dns.TypeA, dns.RcodeSuccess},    // answer, TTL 30
			{testZone, dns.TypeNS, dns.RcodeSuccess},            // NS and glue, TTL 3600
			{testZone, dns.TypeSOA, dns.RcodeSuccess},           // SOA
			{"nope." + testZone, dns.TypeA, dns.RcodeNameError}, // SOA in authority
			{"web." + testZone, dns.TypeAAAA, dns.RcodeSuccess}, // NODATA
			{"_bgdns.api." + testZone, dns.TypeTXT, dns.RcodeSuccess},
		} {
			for _, tcp := range []bool{false, true} {
				for _, edns := range []bool{false, true} {
					req := query(c.name, c.qtype)
					if edns {
						req.SetEdns0(1232, false)
					}
					m, _ := exchange(t, s, req, tcp)
					what := c.name + " " + dns.TypeToString[c.qtype]
					if m.Rcode != c.rcode {
						t.Fatalf("%s: rcode %s", what, dns.RcodeToString[m.Rcode])
					}
					if ttl, n := maxTTL(m); n == 0 || ttl > cfg.cap {
						t.Errorf("%s: %d records, largest TTL %d, want at most %d", what, n, ttl, cfg.cap)
					}
					ede := staleEDE(m)
					switch {
					case !edns && m.IsEdns0() != nil:
						t.Errorf("%s: OPT in the reply to a query without EDNS", what)
					case edns && (len(ede) != 1 || ede[0] != dns.ExtendedErrorCodeStaleAnswer):
						t.Errorf("%s: extended errors %v, want Stale Answer (3)", what, ede)
					}
				}
			}
		}
	}

	s := newTestServer(t, Config{}, src)
	for _, req := range []*dns.Msg{query("example.com.", dns.TypeA), query("id.server.", dns.TypeTXT)} {
		req.SetEdns0(1232, false)
		if req.Question[0].Name == "id.server." {
			req.Question[0].Qclass = dns.ClassCHAOS
		}
		if m, _ := exchange(t, s, req, false); len(staleEDE(m)) != 0 {
			t.Errorf("%v: marked stale, but it is not about our zones", req.Question)
		}
	}
	src.serving.Store(false)
	req := query("api."+testZone, dns.TypeA)
	req.SetEdns0(1232, false)
	if m, _ := exchange(t, s, req, false); m.Rcode != dns.RcodeServerFailure || len(staleEDE(m)) != 0 {
		t.Errorf("not serving and stale: rcode %s, extended errors %v, want a plain SERVFAIL",
			dns.RcodeToString[m.Rcode], staleEDE(m))
	}
}

// plainSource is a Source without Stale: never stale.
type plainSource struct{ f *fakeSource }

func (p plainSource) State() *control.State { return p.f.State() }
func (p plainSource) Serving() bool         { return p.f.Serving() }

func TestSourceWithoutStaleIsNeverStale(t *testing.T) {
	src := newTestSource(t)
	src.stale.Store(true) // not visible through plainSource
	s := newTestServer(t, Config{}, plainSource{src})
	req := query("web."+testZone, dns.TypeA)
	req.SetEdns0(1232, false)
	m, _ := exchange(t, s, req, false)
	if ttl, _ := maxTTL(m); ttl != 30 || len(staleEDE(m)) != 0 {
		t.Fatalf("TTL %d, extended errors %v: want the plain answer", ttl, staleEDE(m))
	}
}
