package dnsserver

import (
	"net/netip"
	"strconv"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// addrRRs appends an A (v4) or AAAA (!v4) record for each address of that
// family, owned by name.
func addrRRs(out []dns.RR, name string, addrs []netip.Addr, ttl uint32, v4 bool) []dns.RR {
	for _, a := range addrs {
		if a.Is4() != v4 {
			continue
		}
		if v4 {
			b := a.As4()
			out = append(out, &dns.A{
				Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl},
				A:   b[:],
			})
		} else {
			b := a.As16()
			out = append(out, &dns.AAAA{
				Hdr:  dns.RR_Header{Name: name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl},
				AAAA: b[:],
			})
		}
	}
	return out
}

// soaRR is the zone's SOA owned by name (the apex as asked).
func soaRR(z *control.Zone, name string, ttl uint32) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      z.SOA.MName,
		Mbox:    z.SOA.RName,
		Serial:  z.Serial,
		Refresh: z.SOA.Refresh,
		Retry:   z.SOA.Retry,
		Expire:  z.SOA.Expire,
		Minttl:  z.SOA.Minimum,
	}
}

func nsRRs(out []dns.RR, z *control.Zone, name string) []dns.RR {
	for _, ns := range z.NS {
		out = append(out, &dns.NS{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: z.SOA.TTL},
			Ns:  ns,
		})
	}
	return out
}

// glueRRs appends the addresses of the zone's in-zone NS hosts, in NS order.
func glueRRs(out []dns.RR, z *control.Zone) []dns.RR {
	for _, ns := range z.NS {
		addrs := z.Glue[ns]
		out = addrRRs(out, ns, addrs, z.SOA.TTL, true)
		out = addrRRs(out, ns, addrs, z.SOA.TTL, false)
	}
	return out
}

// TXTValue is the text of a service's _bgdns TXT record.
func TXTValue(svc *control.Service) string {
	version := ""
	if p := svc.ActivePool(); p != nil {
		version = p.Version
	}
	return "active=" + string(svc.Active) + " version=" + version +
		" revision=" + strconv.FormatUint(svc.Revision, 10) + " state=" + string(svc.State)
}

func txtRR(name string, svc *control.Service) *dns.TXT {
	return &dns.TXT{
		Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: svc.TTL},
		Txt: []string{TXTValue(svc)},
	}
}
