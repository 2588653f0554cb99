package dataset

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
)

// Zone defaults of the benchmark zone.
const (
	DefaultZone = "bench.test."
	ServiceTTL  = 5
	SOATTL      = 3600
	SOAMinimum  = 30
	NSHost      = "ns1"
)

// Service is one generated service.
type Service struct {
	Name   string     // fully qualified, lower case, trailing dot
	Blue   netip.Addr // IPv4 of the blue pool
	Green  netip.Addr // IPv4 of the green pool
	Blue6  netip.Addr // IPv6 of the blue pool; invalid when the service has none
	Green6 netip.Addr
}

// HasV6 reports whether the service has AAAA records.
func (s Service) HasV6() bool { return s.Blue6.IsValid() }

// Set is a generated data set.
type Set struct {
	Zone     string // fully qualified, trailing dot
	Services []Service
}

// Generate builds n services in zone; the first n6 of them also have IPv6
// addresses. Blue is the active colour everywhere.
func Generate(zone string, n, n6 int) *Set {
	if !strings.HasSuffix(zone, ".") {
		zone += "."
	}
	zone = strings.ToLower(zone)
	s := &Set{Zone: zone, Services: make([]Service, n)}
	for i := range n {
		hi, mid, lo := byte(i>>16), byte(i>>8), byte(i)
		svc := Service{
			Name:  fmt.Sprintf("svc%d.%s", i, zone),
			Blue:  netip.AddrFrom4([4]byte{10, 1 + hi, mid, lo}),
			Green: netip.AddrFrom4([4]byte{10, 129 + hi, mid, lo}),
		}
		if i < n6 {
			svc.Blue6 = v6(0xb, i)
			svc.Green6 = v6(0xc, i)
		}
		s.Services[i] = svc
	}
	return s
}

func v6(colour uint16, i int) netip.Addr {
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	b[10], b[11] = byte(colour>>8), byte(colour)
	b[12], b[13], b[14], b[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return netip.AddrFrom16(b)
}

// NSName is the zone's only NS host (in-zone, with glue 127.0.0.1).
func (s *Set) NSName() string { return NSHost + "." + s.Zone }

// Query is one line of the dnsperf input.
type Query struct {
	Name string // without the trailing dot, as dnsperf files usually have it
	Type string // "A" or "AAAA"
}

// Queries returns count queries drawn with a fixed seed: 80% A for a
// service, 10% AAAA for a service that has IPv6, 10% A for a name that does
// not exist (NXDOMAIN).
func (s *Set) Queries(count int, seed uint64) []Query {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var v6 []int
	for i, svc := range s.Services {
		if svc.HasV6() {
			v6 = append(v6, i)
		}
	}
	out := make([]Query, count)
	for i := range out {
		p := r.IntN(10)
		switch {
		case p < 8 || (p == 8 && len(v6) == 0):
			out[i] = Query{trim(s.Services[r.IntN(len(s.Services))].Name), "A"}
		case p == 8:
			out[i] = Query{trim(s.Services[v6[r.IntN(len(v6))]].Name), "AAAA"}
		default:
			out[i] = Query{trim(fmt.Sprintf("nx%d.%s", r.IntN(1<<20), s.Zone)), "A"}
		}
	}
	return out
}

func trim(n string) string { return strings.TrimSuffix(n, ".") }
