package dnsserver

import (
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

const headerLen = 12

// handle answers one request packet from client over UDP or TCP. It
// returns the reply to send (nil: send nothing) or, for an authorized zone
// transfer over TCP, the transfer to stream. It never panics on input and
// loads the State exactly once.
func (s *Server) handle(raw []byte, from netip.AddrPort, tcp bool) ([]byte, *transfer) {
	return s.respond(raw, from, tcp, rrlUnchecked, s.isStale())
}

// rrlUnchecked tells respond to ask the rate limiter itself.
const rrlUnchecked rrlAction = -1

// respond is handle with what the fast path has already asked for this
// query, so that the reply it remembers is the one for what it asked: the
// rate limiter's decision (each response is counted once, hit or miss; or
// rrlUnchecked) and whether the Source is stale.
func (s *Server) respond(raw []byte, from netip.AddrPort, tcp bool, act rrlAction, stale bool) ([]byte, *transfer) {
	if len(raw) < headerLen || raw[2]&0x80 != 0 {
		return nil, nil // too short to answer, or a response: drop
	}
	req := new(dns.Msg)
	if err := req.Unpack(raw); err != nil {
		return formErr(raw), nil
	}
	st := s.src.State()
	o := s.options(stale)

	t := s.checkTSIG(raw, req)
	if t != nil && t.err != 0 {
		b, err := tsigErrorReply(req, t, o)
		if err != nil {
			return formErr(raw), nil
		}
		return b, nil
	}

	var reply *dns.Msg
	if isTransfer(req) {
		var x *transfer
		reply, x = s.answerTransfer(st, req, from.Addr(), tcp, t, o)
		if x != nil {
			return nil, x
		}
	} else {
		reply = Resolve(st, req, o)
	}

	if !tcp && s.rrl != nil {
		if act == rrlUnchecked {
			act = s.rrl.check(from.Addr(), s.rrlSecond())
		}
		switch act {
		case rrlDrop:
			return nil, nil
		case rrlSlip:
			slip(reply)
		}
	}
	return s.pack(req, reply, t, tcp, raw), nil
}

// pack puts reply on the wire, truncated to what the client accepts (TC=1
// when records are left out) and TSIG-signed when the request was.
func (s *Server) pack(req, reply *dns.Msg, t *tsigState, tcp bool, raw []byte) []byte {
	limit := dns.MaxMsgSize
	if !tcp {
		limit = dns.MinMsgSize
		if reply.IsEdns0() != nil {
			limit = replyLimit(req, s.cfg.UDPSize)
		}
	}
	if t.valid() {
		room := limit - t.reserve()
		reply.Truncate(room) // which never goes below 512
		reply.Compress = true
		if reply.Len() > room {
			slip(reply) // empty with TC=1: the client retries over TCP
		}
		b, _, err := t.sign(reply, t.reqMAC, false)
		if err != nil || len(b) > limit {
			return formErr(raw)
		}
		return b
	}
	reply.Truncate(limit)
	reply.Compress = true
	b, err := reply.Pack()
	if err != nil || len(b) > limit {
		return formErr(raw)
	}
	return b
}

// isTransfer reports whether req asks for AXFR or IXFR in class IN.
func isTransfer(req *dns.Msg) bool {
	if req.Opcode != dns.OpcodeQuery || len(req.Question) != 1 || len(req.Answer) != 0 {
		return false
	}
	q := req.Question[0]
	return q.Qclass == dns.ClassINET && (q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR)
}

// slip turns reply into an empty truncated answer, so that a real client
// retries over TCP (and a spoofed victim of rate limiting receives almost
// nothing).
func slip(reply *dns.Msg) {
	reply.Truncated = true
	reply.Answer = nil
	reply.Ns = nil
	var opt []dns.RR
	if o := reply.IsEdns0(); o != nil {
		opt = []dns.RR{o}
	}
	reply.Extra = opt
}

// formErr is a header-only FORMERR for a packet that did not parse: the id,
// opcode and RD echoed, no sections.
func formErr(raw []byte) []byte {
	b := make([]byte, headerLen)
	b[0], b[1] = raw[0], raw[1]
	b[2] = 0x80 | raw[2]&0x79 // QR, opcode, RD
	b[3] = dns.RcodeFormatError
	return b
}

func (s *Server) options(stale bool) Options {
	return Options{
		Serving:  s.src.Serving(),
		NoTXT:    s.cfg.NoTXT,
		NodeID:   s.identity(),
		UDPSize:  s.cfg.UDPSize,
		Stale:    stale,
		StaleTTL: uint32(s.cfg.StaleTTL / time.Second),
	}
}

// identity is the node id told in NSID and CHAOS answers: none when
// hidden (Resolve then gives no NSID and refuses the CHAOS names).
func (s *Server) identity() string {
	if s.cfg.HideIdentity {
		return ""
	}
	return s.cfg.NodeID
}

func (s *Server) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}
