package dnsserver

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/control"

	"github.com/miekg/dns"
)

const (
	soaText    = "bg.example.test. 3600 IN SOA ns1.bg.example.test. hostmaster.bg.example.test. 5 3600 600 604800 30"
	negSOAText = "bg.example.test. 30 IN SOA ns1.bg.example.test. hostmaster.bg.example.test. 5 3600 600 604800 30"
)

type lookupCase struct {
	qname  string
	qtype  uint16
	rcode  int
	aa     bool
	answer []string
	ns     []string
	extra  []string
}

func TestLookupTable(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{}, src)
	cases := []lookupCase{
		// the live name answers the active colour (green)
		{qname: "api.bg.example.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"api.bg.example.test. 5 IN A 10.0.0.21"}},
		{qname: "api.bg.example.test.", qtype: dns.TypeAAAA, aa: true,
			answer: []string{"api.bg.example.test. 5 IN AAAA 2001:db8::21"}},
		{qname: "api.bg.example.test.", qtype: dns.TypeTXT, aa: true, ns: []string{negSOAText}},
		{qname: "api.bg.example.test.", qtype: dns.TypeANY, aa: true,
			answer: []string{"api.bg.example.test. 5 IN A 10.0.0.21"}},
		// colour names answer their colour whatever is active
		{qname: "blue.api.bg.example.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"blue.api.bg.example.test. 5 IN A 10.0.0.11", "blue.api.bg.example.test. 5 IN A 10.0.0.12"}},
		{qname: "blue.api.bg.example.test.", qtype: dns.TypeAAAA, aa: true, ns: []string{negSOAText}},
		{qname: "green.api.bg.example.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"green.api.bg.example.test. 5 IN A 10.0.0.21"}},
		{qname: "green.api.bg.example.test.", qtype: dns.TypeAAAA, aa: true,
			answer: []string{"green.api.bg.example.test. 5 IN AAAA 2001:db8::21"}},
		// preview is the idle colour (blue, after the switch)
		{qname: "preview.api.bg.example.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"preview.api.bg.example.test. 5 IN A 10.0.0.11", "preview.api.bg.example.test. 5 IN A 10.0.0.12"}},
		{qname: "_bgdns.api.bg.example.test.", qtype: dns.TypeTXT, aa: true,
			answer: []string{`_bgdns.api.bg.example.test. 5 IN TXT "active=green version=2.0 revision=4 state=validating"`}},
		{qname: "_bgdns.api.bg.example.test.", qtype: dns.TypeA, aa: true, ns: []string{negSOAText}},
		// web: blue only, TXT off
		{qname: "web.bg.example.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"web.bg.example.test. 30 IN A 10.1.0.1"}},
		{qname: "green.web.bg.example.test.", qtype: dns.TypeA, aa: true, ns: []string{negSOAText}},
		{qname: "preview.web.bg.example.test.", qtype: dns.TypeA, aa: true, ns: []string{negSOAText}},
		{qname: "_bgdns.web.bg.example.test.", qtype: dns.TypeTXT, rcode: dns.RcodeNameError, aa: true, ns: []string{negSOAText}},
		// apex
		{qname: "bg.example.test.", qtype: dns.TypeSOA, aa: true, answer: []string{soaText}},
		{qname: "bg.example.test.", qtype: dns.TypeNS, aa: true,
			answer: []string{"bg.example.test. 3600 IN NS ns1.bg.example.test.", "bg.example.test. 3600 IN NS ns2.elsewhere.test."},
			extra:  []string{"ns1.bg.example.test. 3600 IN A 192.0.2.53", "ns1.bg.example.test. 3600 IN AAAA 2001:db8::53"}},
		{qname: "bg.example.test.", qtype: dns.TypeA, aa: true, ns: []string{negSOAText}},
		{qname: "bg.example.test.", qtype: dns.TypeANY, aa: true, answer: []string{soaText}},
		// in-zone NS host
		{qname: "ns1.bg.example.test.", qtype: dns.TypeA, aa: true,
			answer: []string{"ns1.bg.example.test. 3600 IN A 192.0.2.53"}},
		{qname: "ns1.bg.example.test.", qtype: dns.TypeAAAA, aa: true,
			answer: []string{"ns1.bg.example.test. 3600 IN AAAA 2001:db8::53"}},
		{qname: "ns1.bg.example.test.", qtype: dns.TypeMX, aa: true, ns: []string{negSOAText}},
		// names that do not exist
		{qname: "nope.bg.example.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{negSOAText}},
		{qname: "x.api.bg.example.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{negSOAText}},
		{qname: "a.blue.api.bg.example.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{negSOAText}},
		{qname: "blue.nope.bg.example.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{negSOAText}},
		// outside our zones: refused, never recursion
		{qname: "example.com.", qtype: dns.TypeA, rcode: dns.RcodeRefused},
		{qname: "example.test.", qtype: dns.TypeSOA, rcode: dns.RcodeRefused},
		{qname: ".", qtype: dns.TypeNS, rcode: dns.RcodeRefused},
		// case is ignored for lookup and echoed in the answer
		{qname: "API.Bg.Example.TEST.", qtype: dns.TypeA, aa: true,
			answer: []string{"API.Bg.Example.TEST. 5 IN A 10.0.0.21"}},
		{qname: "Nope.BG.example.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true,
			ns: []string{"BG.example.test. 30 IN SOA ns1.bg.example.test. hostmaster.bg.example.test. 5 3600 600 604800 30"}},
		{qname: "GREEN.api.BG.example.test.", qtype: dns.TypeAAAA, aa: true,
			answer: []string{"GREEN.api.BG.example.test. 5 IN AAAA 2001:db8::21"}},
	}
	for _, tc := range cases {
		name := tc.qname + "/" + dns.TypeToString[tc.qtype]
		for _, edns := range []bool{false, true} {
			req := query(tc.qname, tc.qtype)
			req.RecursionDesired = true
			if edns {
				req.SetEdns0(4096, false)
			}
			m, _ := exchange(t, s, req, false)
			if m == nil {
				t.Fatalf("%s: no reply", name)
			}
			checkReply(t, name, req, m, tc)
			if got := m.IsEdns0() != nil; got != edns {
				t.Errorf("%s: OPT in reply = %v, query had EDNS = %v", name, got, edns)
			}
		}
	}
}

func checkReply(t *testing.T, name string, req, m *dns.Msg, tc lookupCase) {
	t.Helper()
	if m.Id != req.Id || !m.Response {
		t.Errorf("%s: id %d response %v", name, m.Id, m.Response)
	}
	if m.Rcode != tc.rcode {
		t.Errorf("%s: rcode %s, want %s", name, dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode])
	}
	if m.Authoritative != tc.aa {
		t.Errorf("%s: AA = %v, want %v", name, m.Authoritative, tc.aa)
	}
	if m.RecursionAvailable {
		t.Errorf("%s: RA set", name)
	}
	if m.RecursionDesired != req.RecursionDesired {
		t.Errorf("%s: RD not copied", name)
	}
	if len(m.Question) != 1 || m.Question[0].Name != req.Question[0].Name {
		t.Errorf("%s: question not echoed as asked: %v", name, m.Question)
	}
	if got, want := sectionStrings(m.Answer), rrStrings(t, tc.answer); !equalStrings(got, want) {
		t.Errorf("%s: answer\n got %q\nwant %q", name, got, want)
	}
	if got, want := sectionStrings(m.Ns), rrStrings(t, tc.ns); !equalStrings(got, want) {
		t.Errorf("%s: authority\n got %q\nwant %q", name, got, want)
	}
	if got, want := sectionStrings(m.Extra), rrStrings(t, tc.extra); !equalStrings(got, want) {
		t.Errorf("%s: additional\n got %q\nwant %q", name, got, want)
	}
	for _, rr := range m.Answer {
		if !strings.EqualFold(rr.Header().Name, req.Question[0].Name) {
			continue
		}
		if rr.Header().Name != req.Question[0].Name {
			t.Errorf("%s: owner %q does not echo the query's case", name, rr.Header().Name)
		}
	}
}

// TestNotServingAnswersServfail: a node that does not serve answers
// SERVFAIL to every IN question, names outside the zones it knows too (it
// may not know them all before it caught up; REFUSED would mark it lame).
func TestNotServingAnswersServfail(t *testing.T) {
	src := newTestSource(t)
	src.serving.Store(false)
	s := newTestServer(t, Config{}, src)
	for _, tc := range []struct {
		qname string
		rcode int
	}{
		{"api.bg.example.test.", dns.RcodeServerFailure},
		{"nope.bg.example.test.", dns.RcodeServerFailure},
		{"bg.example.test.", dns.RcodeServerFailure},
		{"example.com.", dns.RcodeServerFailure},
	} {
		m, _ := exchange(t, s, query(tc.qname, dns.TypeA), false)
		if m.Rcode != tc.rcode || len(m.Answer) != 0 || m.Authoritative {
			t.Errorf("%s: rcode %s aa %v answers %d, want %s and nothing else",
				tc.qname, dns.RcodeToString[m.Rcode], m.Authoritative, len(m.Answer), dns.RcodeToString[tc.rcode])
		}
	}
}

func TestSwitchIsSeenByTheNextQuery(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{}, src)
	soaSerial := func() uint32 {
		m, _ := exchange(t, s, query(testZone, dns.TypeSOA), false)
		return m.Answer[0].(*dns.SOA).Serial
	}
	before := soaSerial()
	src.apply(t, control.Command{Op: control.OpRollback, Name: "api." + testZone})
	m, _ := exchange(t, s, query("api."+testZone, dns.TypeA), false)
	if got := sectionStrings(m.Answer); !equalStrings(got, rrStrings(t, []string{
		"api.bg.example.test. 5 IN A 10.0.0.11", "api.bg.example.test. 5 IN A 10.0.0.12"})) {
		t.Fatalf("after rollback: %q", got)
	}
	if after := soaSerial(); !serialLess(before, after) {
		t.Fatalf("serial did not increase: %d -> %d", before, after)
	}
}

func TestEmptyNonTerminalAboveAnNSHost(t *testing.T) {
	src := newSource(control.Empty())
	src.apply(t, control.Command{Op: control.OpZonePut, Name: "z.test.", Zone: &control.ZoneSpec{
		NS:   []string{"ns1.dns.z.test."},
		Glue: map[string][]netip.Addr{"ns1.dns.z.test.": addrs(t, "192.0.2.1")},
	}})
	s := newTestServer(t, Config{}, src)
	neg := "z.test. 30 IN SOA ns1.z.test. hostmaster.z.test. 1 3600 600 604800 30"
	for _, tc := range []lookupCase{
		{qname: "dns.z.test.", qtype: dns.TypeA, aa: true, ns: []string{neg}},
		{qname: "ns1.dns.z.test.", qtype: dns.TypeA, aa: true, answer: []string{"ns1.dns.z.test. 3600 IN A 192.0.2.1"}},
		{qname: "ns.z.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{neg}},
		{qname: "s1.dns.z.test.", qtype: dns.TypeA, rcode: dns.RcodeNameError, aa: true, ns: []string{neg}},
	} {
		req := query(tc.qname, tc.qtype)
		m, _ := exchange(t, s, req, false)
		checkReply(t, tc.qname, req, m, tc)
	}
}
