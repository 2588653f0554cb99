package dnsserver

import (
	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// Options are what Resolve needs besides the State and the query.
type Options struct {
	// Serving is false when the node is not caught up: our zones answer
	// SERVFAIL so resolvers try another nameserver.
	Serving bool
	// NoTXT turns off every _bgdns TXT record.
	NoTXT bool
	// NodeID answers NSID and the CHAOS id.server / hostname.bind names;
	// empty, there is no NSID and those names are refused.
	NodeID string
	// UDPSize is the EDNS0 payload size advertised in replies.
	UDPSize uint16
	// Stale marks every answer about our zones as stale: Extended DNS
	// Error 3 "Stale Answer" when the query has EDNS, and every TTL of
	// the reply capped at StaleTTL seconds.
	Stale    bool
	StaleTTL uint32
}

// Resolve answers one query from st. It is pure: no I/O, no clock, no
// shared mutable state, so it can be called from any goroutine and tested
// through a table. It handles the message-level rules (opcode, question
// count, class, EDNS version and NSID, names, NXDOMAIN vs NODATA, ANY, case
// echo). Transport rules (truncation, TSIG, rate limiting, zone transfers)
// belong to the handler. The reply carries an OPT record exactly when the
// query did.
func Resolve(st *control.State, req *dns.Msg, o Options) *dns.Msg {
	m := new(dns.Msg)
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	m.CheckingDisabled = req.CheckingDisabled
	m.Compress = true

	// EDNS first: every reply to a query with a valid OPT carries one,
	// and the version is checked before anything else (RFC 6891 §6.1.3).
	if rc := ednsReply(req, m, o); rc != dns.RcodeSuccess {
		m.Rcode = rc
		return m
	}
	if req.Opcode != dns.OpcodeQuery {
		if len(req.Question) == 1 {
			m.Question = req.Question[:1:1]
		}
		m.Rcode = dns.RcodeNotImplemented
		return m
	}
	if len(req.Question) != 1 || len(req.Answer) != 0 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	m.Question = req.Question[:1:1]
	q := req.Question[0]
	switch q.Qclass {
	case dns.ClassINET:
		if resolveIN(st, q, m, o) && o.Stale {
			markStale(m, o.StaleTTL)
		}
	case dns.ClassCHAOS:
		resolveChaos(q, m, o)
	default:
		m.Rcode = dns.RcodeRefused
	}
	return m
}

// resolveIN answers a class IN question. It reports whether the reply is
// one about our zones, answered from the State (not REFUSED for a name
// elsewhere, not SERVFAIL).
//
// A node that does not serve (catching up after a restart, cut off under
// the servfail policy, diverged) answers SERVFAIL to every question, also
// for names outside the zones it knows: until it has re-applied its log it
// may not know all of its zones yet, and REFUSED would tell resolvers it
// is lame for them.
func resolveIN(st *control.State, q dns.Question, m *dns.Msg, o Options) bool {
	if !o.Serving {
		m.Rcode = dns.RcodeServerFailure
		return false
	}
	lname := lowerName(q.Name)
	z := st.ZoneFor(lname)
	if z == nil {
		m.Rcode = dns.RcodeRefused
		return false
	}
	switch q.Qtype {
	case dns.TypeAXFR, dns.TypeIXFR:
		// Zone transfers are answered by the transfer code, which checks
		// the client's right to them; here they are refused.
		m.Rcode = dns.RcodeRefused
		return true
	case dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		m.Rcode = dns.RcodeFormatError
		return true
	}
	m.Authoritative = true
	l := lookup{st: st, z: z, q: q, lname: lname, noTXT: o.NoTXT}
	l.answer(m)
	return true
}
