package dnsserver

import (
	"net/netip"
	"strings"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// lookup answers one IN question for a name inside zone z.
type lookup struct {
	st    *control.State
	z     *control.Zone
	q     dns.Question
	lname string // q.Name in lower case, same length
	noTXT bool
}

// apexAsAsked is the zone apex spelled as the query spelled it.
func (l *lookup) apexAsAsked() string {
	return l.q.Name[len(l.q.Name)-len(l.z.Name):]
}

func (l *lookup) answer(m *dns.Msg) {
	z, lname := l.z, l.lname
	if lname == z.Name {
		l.apex(m)
		return
	}
	if addrs, ok := z.Glue[lname]; ok {
		l.addresses(m, addrs, z.SOA.TTL)
		return
	}
	if svc := l.st.Service(lname); svc != nil && svc.Zone == z.Name {
		l.addresses(m, svc.AnswerAddrs(svc.Active), svc.TTL)
		return
	}
	first, parent := splitFirst(lname)
	if svc := l.st.Service(parent); svc != nil && svc.Zone == z.Name {
		switch first {
		case control.LabelBlue:
			l.addresses(m, svc.AnswerAddrs(control.Blue), svc.TTL)
			return
		case control.LabelGreen:
			l.addresses(m, svc.AnswerAddrs(control.Green), svc.TTL)
			return
		case control.LabelPreview:
			var addrs []netip.Addr
			if p := svc.PreviewPool(); p != nil {
				addrs = p.Addresses
			}
			l.addresses(m, addrs, svc.TTL)
			return
		case control.LabelTXT:
			if !l.noTXT && !svc.NoTXT {
				l.txt(m, svc)
				return
			}
		}
	}
	if l.emptyNonTerminal() {
		nodata(m, l.z, l.apexAsAsked())
		return
	}
	nxdomain(m, l.z, l.apexAsAsked())
}

// apex answers the zone apex: SOA, NS with glue, ANY with the SOA.
func (l *lookup) apex(m *dns.Msg) {
	switch l.q.Qtype {
	case dns.TypeSOA, dns.TypeANY:
		m.Answer = append(m.Answer, soaRR(l.z, l.q.Name, l.z.SOA.TTL))
	case dns.TypeNS:
		m.Answer = nsRRs(m.Answer, l.z, l.q.Name)
		m.Extra = glueRRs(m.Extra, l.z)
	default:
		nodata(m, l.z, l.apexAsAsked())
	}
}

// addresses answers A and AAAA from one list split by family. ANY gets one
// RRset (RFC 8482): the A records, or the AAAA records when there are none.
func (l *lookup) addresses(m *dns.Msg, addrs []netip.Addr, ttl uint32) {
	n := len(m.Answer)
	switch l.q.Qtype {
	case dns.TypeA:
		m.Answer = addrRRs(m.Answer, l.q.Name, addrs, ttl, true)
	case dns.TypeAAAA:
		m.Answer = addrRRs(m.Answer, l.q.Name, addrs, ttl, false)
	case dns.TypeANY:
		m.Answer = addrRRs(m.Answer, l.q.Name, addrs, ttl, true)
		if len(m.Answer) == n {
			m.Answer = addrRRs(m.Answer, l.q.Name, addrs, ttl, false)
		}
	}
	if len(m.Answer) == n {
		nodata(m, l.z, l.apexAsAsked())
	}
}

func (l *lookup) txt(m *dns.Msg, svc *control.Service) {
	if l.q.Qtype != dns.TypeTXT && l.q.Qtype != dns.TypeANY {
		nodata(m, l.z, l.apexAsAsked())
		return
	}
	m.Answer = append(m.Answer, txtRR(l.q.Name, svc))
}

// emptyNonTerminal reports whether lname has no records but names below it
// do (an in-zone NS host such as ns1.dns.<zone> makes dns.<zone> exist).
func (l *lookup) emptyNonTerminal() bool {
	for h := range l.z.Glue {
		if len(h) > len(l.lname) && strings.HasSuffix(h, l.lname) && h[len(h)-len(l.lname)-1] == '.' {
			return true
		}
	}
	return false
}

// splitFirst splits a name into its first label and the rest.
func splitFirst(n string) (first, parent string) {
	i := strings.IndexByte(n, '.')
	if i < 0 || i == len(n)-1 {
		return n, ""
	}
	return n[:i], n[i+1:]
}
