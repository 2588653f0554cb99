package dnsserver

import (
	"encoding/hex"

	"github.com/miekg/dns"
)

// ednsReply adds the reply's OPT record when the query had one (RFC 6891)
// and returns a non-success rcode when the query's EDNS is unacceptable:
// FORMERR for more than one OPT, BADVERS for a version above 0. The DO bit
// is copied; NSID (RFC 5001) is answered with the node id.
func ednsReply(req, m *dns.Msg, o Options) int {
	var opt *dns.OPT
	n := 0
	for _, rr := range req.Extra {
		if x, ok := rr.(*dns.OPT); ok {
			opt = x
			n++
		}
	}
	if n == 0 {
		return dns.RcodeSuccess
	}
	if n > 1 || opt.Hdr.Name != "." {
		return dns.RcodeFormatError
	}
	size := o.UDPSize
	if size < dns.MinMsgSize {
		size = DefaultUDPSize
	}
	ro := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	ro.SetUDPSize(size)
	if opt.Do() {
		ro.SetDo()
	}
	m.Extra = append(m.Extra, ro)
	if opt.Version() > 0 {
		return dns.RcodeBadVers
	}
	for _, e := range opt.Option {
		if e.Option() == dns.EDNS0NSID && o.NodeID != "" {
			ro.Option = append(ro.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID, Nsid: hex.EncodeToString([]byte(o.NodeID))})
			break
		}
	}
	return dns.RcodeSuccess
}

// replyLimit is the largest reply the client accepts over UDP: its EDNS
// payload size (never below 512) capped by ours, or 512 without EDNS.
func replyLimit(req *dns.Msg, ours uint16) int {
	opt := req.IsEdns0()
	if opt == nil {
		return dns.MinMsgSize
	}
	size := int(opt.UDPSize())
	if size < dns.MinMsgSize {
		size = dns.MinMsgSize
	}
	return min(size, int(ours))
}
