package dnsserver

import "github.com/miekg/dns"

// resolveChaos answers the CHAOS names that identify a server in a
// cluster (id.server, hostname.bind) with the node id, and refuses them
// when there is none to tell (no id, or the identity hidden). Every other
// CHAOS name (including version.bind) is refused.
func resolveChaos(q dns.Question, m *dns.Msg, o Options) {
	switch lowerName(q.Name) {
	case "id.server.", "hostname.bind.":
	default:
		m.Rcode = dns.RcodeRefused
		return
	}
	if o.NodeID == "" {
		m.Rcode = dns.RcodeRefused
		return
	}
	m.Authoritative = true
	if q.Qtype == dns.TypeTXT || q.Qtype == dns.TypeANY {
		m.Answer = append(m.Answer, &dns.TXT{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS, Ttl: 0},
			Txt: []string{o.NodeID},
		})
	}
}
