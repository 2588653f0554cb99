package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// allowedRcodes are the only rcodes the server may answer with.
var allowedRcodes = map[int]bool{
	dns.RcodeSuccess: true, dns.RcodeFormatError: true, dns.RcodeServerFailure: true,
	dns.RcodeNameError: true, dns.RcodeNotImplemented: true, dns.RcodeRefused: true,
	dns.RcodeNotAuth: true, dns.RcodeBadVers: true,
}

// fuzzSeeds are wire-format queries of every kind the server handles.
func fuzzSeeds() [][]byte {
	var out [][]byte
	add := func(m *dns.Msg) {
		b, err := m.Pack()
		if err == nil {
			out = append(out, b)
		}
	}
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"api." + testZone, dns.TypeA}, {"API.BG.example.test.", dns.TypeAAAA},
		{"preview.api." + testZone, dns.TypeA}, {"_bgdns.api." + testZone, dns.TypeTXT},
		{testZone, dns.TypeNS}, {testZone, dns.TypeSOA}, {testZone, dns.TypeANY},
		{"nope." + testZone, dns.TypeA}, {"example.com.", dns.TypeA},
		{testZone, dns.TypeAXFR}, {"big." + testZone, dns.TypeAAAA},
	} {
		m := query(q.name, q.qtype)
		add(m)
		m.SetEdns0(4096, true)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		add(m)
	}
	ix := new(dns.Msg)
	ix.SetIxfr(testZone, 1, "ns1."+testZone, "hostmaster."+testZone)
	add(ix)
	signed := new(dns.Msg)
	signed.SetAxfr(testZone)
	signed.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	if b, _, err := dns.TsigGenerate(signed, testKeySecret, "", false); err == nil {
		out = append(out, b)
	}
	up := new(dns.Msg)
	up.SetUpdate(testZone)
	add(up)
	ch := query("id.server.", dns.TypeTXT)
	ch.Question[0].Qclass = dns.ClassCHAOS
	add(ch)
	bv := query("api."+testZone, dns.TypeA)
	bv.SetEdns0(512, false)
	bv.IsEdns0().SetVersion(3)
	add(bv)
	// a compression pointer to itself, and a header claiming more than is there
	out = append(out,
		[]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1},
		[]byte{0, 2, 1, 0, 0, 9, 0, 9, 0, 9, 0, 9})
	return out
}

// FuzzHandler feeds arbitrary packets to the handler: it must not panic,
// must echo the id, answer only with allowed rcodes, and never send a UDP
// reply larger than the client allowed.
func FuzzHandler(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b)
	}
	src := newTestSource(f)
	bigService(f, src)
	s := newTestServer(f, Config{XFRKeys: []string{testKey}, AllowTransfer: []string{"198.51.100.0/24"}}, src)
	from := netip.MustParseAddrPort("198.51.100.7:5300")

	f.Fuzz(func(t *testing.T, data []byte) {
		reply, _ := s.handle(data, from, false)
		if reply != nil {
			checkFuzzReply(t, data, reply, clientLimit(data))
		}
		reply, x := s.handle(data, from, true)
		if reply != nil {
			checkFuzzReply(t, data, reply, dns.MaxMsgSize)
		}
		if x != nil {
			_ = x.frames(func(b []byte) error {
				checkFuzzReply(t, data, b, dns.MaxMsgSize)
				return nil
			})
		}
	})
}

// clientLimit is the largest UDP reply the query allows, worked out
// independently of the server: 512, or the EDNS size when above 512.
func clientLimit(data []byte) int {
	m := new(dns.Msg)
	if m.Unpack(data) != nil {
		return dns.MinMsgSize
	}
	if opt := m.IsEdns0(); opt != nil && int(opt.UDPSize()) > dns.MinMsgSize {
		return int(opt.UDPSize())
	}
	return dns.MinMsgSize
}

func checkFuzzReply(t *testing.T, query, reply []byte, limit int) {
	t.Helper()
	if len(query) < headerLen {
		t.Fatalf("answered a %d-byte packet", len(query))
	}
	if len(reply) > limit {
		t.Fatalf("reply of %d bytes, client allowed %d", len(reply), limit)
	}
	if binary.BigEndian.Uint16(reply) != binary.BigEndian.Uint16(query) {
		t.Fatal("id not echoed")
	}
	m := new(dns.Msg)
	if err := m.Unpack(reply); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	if !m.Response {
		t.Fatal("QR not set")
	}
	if !allowedRcodes[m.Rcode] {
		t.Fatalf("rcode %d", m.Rcode)
	}
	if m.RecursionAvailable {
		t.Fatal("RA set")
	}
}
