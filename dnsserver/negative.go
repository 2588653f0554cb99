package dnsserver

import (
	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// negativeTTL is the TTL of the SOA in a negative answer (RFC 2308 §3):
// the smaller of the SOA's own TTL and its minimum field.
func negativeTTL(z *control.Zone) uint32 {
	return min(z.SOA.TTL, z.SOA.Minimum)
}

// nodata: the name exists but has no records of the asked type.
func nodata(m *dns.Msg, z *control.Zone, apex string) {
	m.Rcode = dns.RcodeSuccess
	m.Ns = append(m.Ns, soaRR(z, apex, negativeTTL(z)))
}

// nxdomain: the name does not exist in the zone.
func nxdomain(m *dns.Msg, z *control.Zone, apex string) {
	m.Rcode = dns.RcodeNameError
	m.Ns = append(m.Ns, soaRR(z, apex, negativeTTL(z)))
}
