package dnsserver

import (
	"errors"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// tsigFudge is the allowed clock difference, in seconds (RFC 8945).
const tsigFudge = 300

// tsigState is the outcome of checking a request's TSIG record.
type tsigState struct {
	key    TSIGKey   // the key named by the request (Secret empty when unknown)
	rr     *dns.TSIG // the request's TSIG record
	reqMAC string    // the request's MAC, the first link of the response chain
	err    uint16    // 0, or dns.RcodeBadKey / RcodeBadSig / RcodeBadTime
	now    func() time.Time
}

// valid reports whether the request carried a TSIG that verified.
func (t *tsigState) valid() bool { return t != nil && t.err == 0 }

// checkTSIG verifies the TSIG of raw (the wire form of req). It returns nil
// when the request is not signed.
func (s *Server) checkTSIG(raw []byte, req *dns.Msg) *tsigState {
	rr := req.IsTsig()
	if rr == nil {
		return nil
	}
	t := &tsigState{rr: rr, reqMAC: rr.MAC, now: s.now}
	k, ok := s.keys[lowerName(rr.Hdr.Name)]
	if !ok || !strings.EqualFold(dns.Fqdn(rr.Algorithm), k.Algorithm) {
		t.err = dns.RcodeBadKey
		return t
	}
	t.key = k
	switch err := dns.TsigVerify(append([]byte(nil), raw...), k.Secret, "", false); {
	case err == nil:
	case errors.Is(err, dns.ErrTime):
		t.err = dns.RcodeBadTime
	default:
		t.err = dns.RcodeBadSig
	}
	return t
}

// sign packs m with a TSIG record answering the request. prevMAC is the
// request's MAC for the first message of a reply and the previous
// message's MAC after that (timersOnly then, RFC 8945 §5.3.1). It returns
// the wire form and the MAC of this message.
//
// A reply to a request with an unknown key or a wrong MAC is not signed
// (RFC 8945 §5.3.2): its TSIG has no MAC, but still the server's time, so
// that the client can tell a clock problem from a key problem. (miekg/dns
// zeroes Time Signed when it leaves the MAC out, so those replies are
// packed here.)
func (t *tsigState) sign(m *dns.Msg, prevMAC string, timersOnly bool) ([]byte, string, error) {
	rr := &dns.TSIG{
		Hdr:        dns.RR_Header{Name: dns.Fqdn(t.rr.Hdr.Name), Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
		Algorithm:  dns.Fqdn(t.rr.Algorithm), // never empty, even when the request's was
		Fudge:      tsigFudge,
		TimeSigned: uint64(t.clock().Unix()),
		OrigId:     m.Id,
		Error:      t.err,
	}
	m.Extra = append(m.Extra, rr)
	if t.err == dns.RcodeBadKey || t.err == dns.RcodeBadSig {
		b, err := m.Pack()
		return b, "", err
	}
	return dns.TsigGenerate(m, t.key.Secret, prevMAC, timersOnly)
}

func (t *tsigState) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// reserve is room enough for the TSIG record added to a reply: owner and
// algorithm names, the fixed fields, the largest MAC (SHA-512) and the
// other-data of a BADTIME answer.
func (t *tsigState) reserve() int {
	return len(t.rr.Hdr.Name) + len(t.rr.Algorithm) + 2 + 10 + 16 + 64 + 6
}

// tsigErrorReply is the NOTAUTH reply to a request whose TSIG failed. It
// carries an OPT record when the request had one (RFC 6891 §6.1.1), before
// the TSIG, which is always last.
func tsigErrorReply(req *dns.Msg, t *tsigState, o Options) ([]byte, error) {
	m := new(dns.Msg)
	m.Id = req.Id
	m.Response = true
	m.Opcode = req.Opcode
	m.RecursionDesired = req.RecursionDesired
	if len(req.Question) == 1 {
		m.Question = req.Question
	}
	_ = ednsReply(req, m, o) // the TSIG error is the answer, whatever the EDNS
	m.Rcode = dns.RcodeNotAuth
	b, _, err := t.sign(m, t.reqMAC, false)
	return b, err
}
