package dnsserver

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"testing"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// bigService adds a service whose AAAA answer (64 addresses) does not fit
// in 512 bytes, nor in 1232.
func bigService(t testing.TB, src *fakeSource) string {
	var pool []netip.Addr
	for i := range 64 {
		pool = append(pool, netip.MustParseAddr(fmt.Sprintf("2001:db8:1::%x", i+1)))
	}
	name := "big." + testZone
	src.apply(t, control.Command{Op: control.OpServicePut, Name: name, Service: &control.ServiceSpec{
		Blue: &control.Pool{Version: "1", Addresses: pool},
	}})
	return name
}

func TestTruncationAndTCP(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{}, src)
	name := bigService(t, src)

	// no EDNS: 512 bytes, TC=1
	m, n := exchange(t, s, query(name, dns.TypeAAAA), false)
	if !m.Truncated || n > 512 {
		t.Fatalf("udp without edns: tc=%v size=%d, want tc=1 and <=512", m.Truncated, n)
	}
	// EDNS 4096 asked: we never send more than our 1232
	req := query(name, dns.TypeAAAA)
	req.SetEdns0(4096, false)
	m, n = exchange(t, s, req, false)
	if !m.Truncated || n > DefaultUDPSize {
		t.Fatalf("udp edns 4096: tc=%v size=%d, want tc=1 and <=%d", m.Truncated, n, DefaultUDPSize)
	}
	if opt := m.IsEdns0(); opt == nil || opt.UDPSize() != DefaultUDPSize {
		t.Fatalf("reply OPT %v, want udp size %d", opt, DefaultUDPSize)
	}
	// a client asking for less than 512 gets 512
	req = query(name, dns.TypeAAAA)
	req.SetEdns0(100, false)
	if m, n = exchange(t, s, req, false); !m.Truncated || n > 512 {
		t.Fatalf("udp edns 100: tc=%v size=%d", m.Truncated, n)
	}
	// TCP: the full answer
	m, _ = exchange(t, s, query(name, dns.TypeAAAA), true)
	if m.Truncated || len(m.Answer) != 64 {
		t.Fatalf("tcp: tc=%v answers=%d, want the 64 records", m.Truncated, len(m.Answer))
	}
	// a server configured larger honours a client's 4096
	s2 := newTestServer(t, Config{UDPSize: 4096}, src)
	req = query(name, dns.TypeAAAA)
	req.SetEdns0(4096, false)
	if m, n = exchange(t, s2, req, false); m.Truncated || len(m.Answer) != 64 || n > 4096 {
		t.Fatalf("udp 4096/4096: tc=%v answers=%d size=%d", m.Truncated, len(m.Answer), n)
	}
}

func TestEDNS(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{NodeID: "node-7"}, src)

	t.Run("BADVERS", func(t *testing.T) {
		req := query("api."+testZone, dns.TypeA)
		req.SetEdns0(1232, false)
		req.IsEdns0().SetVersion(1)
		m, _ := exchange(t, s, req, false)
		if m.Rcode != dns.RcodeBadVers || m.IsEdns0() == nil || m.IsEdns0().Version() != 0 || len(m.Answer) != 0 {
			t.Fatalf("rcode %s opt %v answers %d", dns.RcodeToString[m.Rcode], m.IsEdns0(), len(m.Answer))
		}
	})
	t.Run("NSID", func(t *testing.T) {
		req := query("api."+testZone, dns.TypeA)
		req.SetEdns0(1232, true)
		req.IsEdns0().Option = append(req.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		m, _ := exchange(t, s, req, false)
		opt := m.IsEdns0()
		if opt == nil || !opt.Do() {
			t.Fatalf("reply OPT %v: want one with DO copied", opt)
		}
		var got string
		for _, o := range opt.Option {
			if n, ok := o.(*dns.EDNS0_NSID); ok {
				got = n.Nsid
			}
		}
		if got != hex.EncodeToString([]byte("node-7")) {
			t.Fatalf("nsid %q", got)
		}
		// not asked, not sent
		req = query("api."+testZone, dns.TypeA)
		req.SetEdns0(1232, false)
		m, _ = exchange(t, s, req, false)
		if len(m.IsEdns0().Option) != 0 {
			t.Fatalf("unasked options %v", m.IsEdns0().Option)
		}
	})
	t.Run("two OPT records", func(t *testing.T) {
		req := query("api."+testZone, dns.TypeA)
		req.SetEdns0(1232, false)
		req.SetEdns0(1232, false)
		req.Extra = append(req.Extra, req.Extra[0])
		m, _ := exchange(t, s, req, false)
		if m.Rcode != dns.RcodeFormatError {
			t.Fatalf("rcode %s", dns.RcodeToString[m.Rcode])
		}
	})
}

func TestOpcodesAndMalformed(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{}, src)

	upd := new(dns.Msg)
	upd.SetUpdate(testZone)
	upd.Insert([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x." + testZone, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: []byte{1, 2, 3, 4}}})
	if m, _ := exchange(t, s, upd, false); m.Rcode != dns.RcodeNotImplemented || m.Opcode != dns.OpcodeUpdate {
		t.Errorf("update: rcode %s opcode %d", dns.RcodeToString[m.Rcode], m.Opcode)
	}
	st := query(testZone, dns.TypeSOA)
	st.Opcode = dns.OpcodeStatus
	if m, _ := exchange(t, s, st, false); m.Rcode != dns.RcodeNotImplemented {
		t.Errorf("status: rcode %s", dns.RcodeToString[m.Rcode])
	}

	none := query(testZone, dns.TypeSOA)
	none.Question = nil
	if m, _ := exchange(t, s, none, false); m.Rcode != dns.RcodeFormatError {
		t.Errorf("qdcount 0: rcode %s", dns.RcodeToString[m.Rcode])
	}
	two := query(testZone, dns.TypeSOA)
	two.Question = append(two.Question, two.Question[0])
	if m, _ := exchange(t, s, two, false); m.Rcode != dns.RcodeFormatError || len(m.Question) != 0 {
		t.Errorf("qdcount 2: rcode %s", dns.RcodeToString[m.Rcode])
	}

	// with EDNS, error replies carry an OPT too
	for _, r := range []*dns.Msg{upd.Copy(), none.Copy()} {
		r.SetEdns0(1232, false)
		if m, _ := exchange(t, s, r, false); m.IsEdns0() == nil || m.Rcode == dns.RcodeSuccess {
			t.Errorf("opcode %d with %d questions and EDNS: rcode %s, OPT %v", r.Opcode, len(r.Question), dns.RcodeToString[m.Rcode], m.IsEdns0())
		}
	}

	// a header claiming a question that is not there
	raw := []byte{0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', 'b'}
	b, _ := s.handle(raw, testClient, false)
	if len(b) != headerLen || b[0] != 0xab || b[1] != 0xcd || b[2]&0x80 == 0 || b[3]&0xf != dns.RcodeFormatError || b[2]&1 != 1 {
		t.Errorf("truncated question: reply % x", b)
	}
	// responses and runts are dropped
	resp := []byte{0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if b, _ := s.handle(resp, testClient, false); b != nil {
		t.Errorf("a response was answered: % x", b)
	}
	if b, _ := s.handle([]byte{1, 2, 3}, testClient, false); b != nil {
		t.Errorf("a runt was answered: % x", b)
	}
	// class other than IN and CH
	hs := query(testZone, dns.TypeSOA)
	hs.Question[0].Qclass = dns.ClassHESIOD
	if m, _ := exchange(t, s, hs, false); m.Rcode != dns.RcodeRefused {
		t.Errorf("class HS: rcode %s", dns.RcodeToString[m.Rcode])
	}
}

func TestChaos(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{NodeID: "node-7"}, src)
	for _, name := range []string{"id.server.", "hostname.bind.", "ID.Server."} {
		req := query(name, dns.TypeTXT)
		req.Question[0].Qclass = dns.ClassCHAOS
		m, _ := exchange(t, s, req, false)
		want := []string{name + ` 0 CH TXT "node-7"`}
		if m.Rcode != dns.RcodeSuccess || !equalStrings(sectionStrings(m.Answer), rrStrings(t, want)) {
			t.Errorf("%s: rcode %s answer %v", name, dns.RcodeToString[m.Rcode], m.Answer)
		}
	}
	req := query("version.bind.", dns.TypeTXT)
	req.Question[0].Qclass = dns.ClassCHAOS
	if m, _ := exchange(t, s, req, false); m.Rcode != dns.RcodeRefused {
		t.Errorf("version.bind: rcode %s", dns.RcodeToString[m.Rcode])
	}
}

// TestHideIdentity: with HideIdentity (NSD's hide-identity) no NSID is
// given, even when asked, and the CHAOS identity names are refused like
// version.bind.
func TestHideIdentity(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{NodeID: "node-7", HideIdentity: true}, src)
	for _, name := range []string{"id.server.", "hostname.bind.", "version.bind.", "ID.Server."} {
		for _, qtype := range []uint16{dns.TypeTXT, dns.TypeANY} {
			req := query(name, qtype)
			req.Question[0].Qclass = dns.ClassCHAOS
			m, _ := exchange(t, s, req, false)
			if m.Rcode != dns.RcodeRefused || len(m.Answer) != 0 || m.Authoritative {
				t.Errorf("%s %s: rcode %s answer %v aa %v, want REFUSED and nothing", name,
					dns.TypeToString[qtype], dns.RcodeToString[m.Rcode], m.Answer, m.Authoritative)
			}
		}
	}
	for _, tcp := range []bool{false, true} {
		req := query("api."+testZone, dns.TypeA)
		req.SetEdns0(1232, false)
		req.IsEdns0().Option = append(req.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		m, _ := exchange(t, s, req, tcp)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Fatalf("tcp %v: %v", tcp, m)
		}
		opt := m.IsEdns0()
		if opt == nil {
			t.Fatalf("tcp %v: no OPT in the reply", tcp)
		}
		for _, o := range opt.Option {
			if o.Option() == dns.EDNS0NSID {
				t.Errorf("tcp %v: NSID %v given with the identity hidden", tcp, o)
			}
		}
	}
}
