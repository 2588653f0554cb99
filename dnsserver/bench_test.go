package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkHandle measures the whole UDP packet path (parse, one State
// load, Resolve, pack) for the common query.
func BenchmarkHandle(b *testing.B) {
	src := newTestSource(b)
	s := newTestServer(b, Config{}, src)
	for _, c := range []struct {
		name  string
		qname string
		qtype uint16
		edns  bool
	}{
		{"A", "api." + testZone, dns.TypeA, false},
		{"A-edns", "api." + testZone, dns.TypeA, true},
		{"nxdomain", "nope." + testZone, dns.TypeA, false},
		{"refused", "example.com.", dns.TypeA, false},
	} {
		q := query(c.qname, c.qtype)
		if c.edns {
			q.SetEdns0(1232, false)
		}
		raw, _ := q.Pack()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r, _ := s.handle(raw, testClient, false); r == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}
