package main

import (
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
)

// answers reports whether the server at port answers name/qtype with at
// least one record of that type.
func answers(port int, name string, qtype uint16) bool {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	r, _, err := c.Exchange(m, net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == qtype {
			return true
		}
	}
	return false
}

// shape returns a one-line summary of the answer to name/qtype, so the
// report shows what each server actually sends back.
func shape(port int, name string, qtype uint16) string {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	r, _, err := c.Exchange(m, net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	if err != nil {
		return "error: " + err.Error()
	}
	wire, _ := r.Pack()
	return fmt.Sprintf("%s aa=%v an=%d ns=%d ar=%d bytes=%d",
		dns.RcodeToString[r.Rcode], r.Authoritative, len(r.Answer), len(r.Ns), len(r.Extra), len(wire))
}
