package dnsserver

import (
	"net/netip"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// xfrChunk bounds the uncompressed size of the records in one AXFR message.
const xfrChunk = 16 * 1024

// transfer is an authorized zone transfer, streamed over TCP.
type transfer struct {
	msgs []*dns.Msg
	tsig *tsigState // nil when allowed by address
}

// frames packs the messages of the transfer, TSIG-signing each one in a
// chain when the request was signed.
func (x *transfer) frames(yield func([]byte) error) error {
	mac := ""
	if x.tsig != nil {
		mac = x.tsig.reqMAC
	}
	for i, m := range x.msgs {
		var b []byte
		var err error
		if x.tsig != nil {
			b, mac, err = x.tsig.sign(m, mac, i > 0)
		} else {
			b, err = m.Pack()
		}
		if err != nil {
			return err
		}
		if err := yield(b); err != nil {
			return err
		}
	}
	return nil
}

// mayTransfer reports whether a client may transfer our zones: a valid
// TSIG with one of our keys, or a source address in the allow list.
func (s *Server) mayTransfer(from netip.Addr, t *tsigState) bool {
	if t.valid() {
		return true
	}
	from = from.Unmap()
	for _, p := range s.allow {
		if p.Contains(from) {
			return true
		}
	}
	return false
}

// answerTransfer handles an AXFR or IXFR question. It returns either a
// single reply or, for an authorized transfer over TCP, the transfer.
func (s *Server) answerTransfer(st *control.State, req *dns.Msg, from netip.Addr, tcp bool, t *tsigState, o Options) (*dns.Msg, *transfer) {
	q := req.Question[0]
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = false
	m.Compress = true
	// Every reply, each message of a transfer too, carries an OPT record
	// when the request had one (RFC 6891 §6.1.1), as NSD's and Knot's do.
	if rc := ednsReply(req, m, o); rc != dns.RcodeSuccess {
		m.Rcode = rc
		return m, nil
	}
	opt := m.IsEdns0()
	lname := lowerName(q.Name)
	z := st.ZoneFor(lname)
	switch {
	case z == nil || !s.mayTransfer(from, t):
		m.Rcode = dns.RcodeRefused
		return m, nil
	case !o.Serving:
		m.Rcode = dns.RcodeServerFailure
		return m, nil
	case z.Name != lname:
		m.Rcode = dns.RcodeNotAuth
		return m, nil
	}
	m.Authoritative = true
	if q.Qtype == dns.TypeIXFR {
		// Up to date: the current SOA alone (RFC 1995 §4). Over UDP the
		// zone does not fit: the SOA tells the client to use TCP. Marked
		// when stale, as every answer is; a whole transfer is not (its
		// records are the zone's, for a secondary's own timers).
		have, ok := ixfrSerial(req)
		if (ok && !serialLess(have, z.Serial)) || !tcp {
			m.Answer = []dns.RR{soaRR(z, z.Name, z.SOA.TTL)}
			if o.Stale {
				markStale(m, o.StaleTTL)
			}
			return m, nil
		}
	} else if !tcp {
		m.Rcode = dns.RcodeFormatError // AXFR needs TCP (RFC 5936 §4.2)
		m.Authoritative = false
		return m, nil
	}
	rrs := ZoneRecords(st, z.Name, o.NoTXT)
	x := &transfer{tsig: t}
	first := true
	for len(rrs) > 0 {
		msg := new(dns.Msg)
		msg.Id = req.Id
		msg.Response = true
		msg.Opcode = dns.OpcodeQuery
		msg.Authoritative = true
		msg.Compress = true
		if first {
			msg.Question = req.Question[:1:1]
			first = false
		}
		size := 0
		n := 0
		for n < len(rrs) && (n == 0 || size+dns.Len(rrs[n]) <= xfrChunk) {
			size += dns.Len(rrs[n])
			n++
		}
		msg.Answer = rrs[:n:n]
		if opt != nil {
			msg.Extra = []dns.RR{opt}
		}
		rrs = rrs[n:]
		x.msgs = append(x.msgs, msg)
	}
	return nil, x
}

// ixfrSerial is the client's serial from the SOA in an IXFR's authority.
func ixfrSerial(req *dns.Msg) (uint32, bool) {
	for _, rr := range req.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, true
		}
	}
	return 0, false
}

// serialLess compares serials with RFC 1982 arithmetic.
func serialLess(a, b uint32) bool {
	return a != b && int32(b-a) > 0
}

// ZoneRecords returns every record of zone (canonical name) as a secondary
// receives it by AXFR, SOA first and last: the apex SOA and NS, glue of
// in-zone NS hosts, and for each service its live name, the blue and green
// names of colours with addresses, the preview name while there is one to
// preview, and the _bgdns TXT record unless noTXT or the service turns it
// off. It returns nil for a zone st does not have.
func ZoneRecords(st *control.State, zone string, noTXT bool) []dns.RR {
	z := st.Zone(zone)
	if z == nil {
		return nil
	}
	soa := soaRR(z, z.Name, z.SOA.TTL)
	out := []dns.RR{soa}
	out = nsRRs(out, z, z.Name)
	for _, ns := range z.NS {
		if addrs, ok := z.Glue[ns]; ok {
			out = addrRRs(out, ns, addrs, z.SOA.TTL, true)
			out = addrRRs(out, ns, addrs, z.SOA.TTL, false)
		}
	}
	for _, svc := range st.ServicesInZone(z.Name) {
		out = addrsBoth(out, svc.Name, svc.AnswerAddrs(svc.Active), svc.TTL)
		out = addrsBoth(out, control.LabelBlue+"."+svc.Name, svc.AnswerAddrs(control.Blue), svc.TTL)
		out = addrsBoth(out, control.LabelGreen+"."+svc.Name, svc.AnswerAddrs(control.Green), svc.TTL)
		if p := svc.PreviewPool(); p != nil {
			out = addrsBoth(out, control.LabelPreview+"."+svc.Name, p.Addresses, svc.TTL)
		}
		if !noTXT && !svc.NoTXT {
			out = append(out, txtRR(control.LabelTXT+"."+svc.Name, svc))
		}
	}
	return append(out, soa)
}

func addrsBoth(out []dns.RR, name string, addrs []netip.Addr, ttl uint32) []dns.RR {
	out = addrRRs(out, name, addrs, ttl, true)
	return addrRRs(out, name, addrs, ttl, false)
}
