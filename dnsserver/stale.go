package dnsserver

import "github.com/miekg/dns"

// StaleSource is a Source that can also say it is stale. New checks for
// it once; a Source without it is never stale.
type StaleSource interface {
	// Stale is true while the node serves from a state it could not
	// confirm as current (it lost its leader and keeps answering, the
	// fail-static policy). Serving false still means SERVFAIL for our
	// zones; while Serving and Stale every answer for our zones carries
	// Extended DNS Error 3 "Stale Answer" (RFC 8914) when the query has
	// EDNS, and no TTL above Config.StaleTTL.
	Stale() bool
}

// isStale reports whether the Source says it is stale now.
func (s *Server) isStale() bool { return s.stale != nil && s.stale.Stale() }

// markStale labels m, a reply about our zones from a state the node could
// not confirm as current: Extended DNS Error 3 "Stale Answer" (RFC 8914)
// in its OPT record when it has one, and no TTL above ttl in any section
// (the SOA of a negative answer and glue included).
func markStale(m *dns.Msg, ttl uint32) {
	for _, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT && h.Ttl > ttl {
				h.Ttl = ttl
			}
		}
	}
	if opt := m.IsEdns0(); opt != nil {
		opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeStaleAnswer})
	}
}

// lowerName returns n in ASCII lower case, the same length as n (so that
// suffixes of both line up), allocating only when n has upper case.
func lowerName(n string) string {
	for i := 0; i < len(n); i++ {
		if c := n[i]; c >= 'A' && c <= 'Z' {
			b := []byte(n)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return n
}
