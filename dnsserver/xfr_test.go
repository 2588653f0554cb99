package dnsserver

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

const (
	testKeyName   = "xfr-key."
	testKeySecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="
	testKey       = "hmac-sha256:xfr-key:" + testKeySecret
)

// axfr transfers zone from addr over TCP, signed with the test key when
// signed, and returns the records or the error.
func axfr(t *testing.T, addr, zone string, qtype uint16, serial uint32, signed bool, key string) ([]dns.RR, error) {
	t.Helper()
	rrs, _, err := axfrMessages(t, addr, zone, qtype, serial, signed, key)
	return rrs, err
}

// axfrMessages is axfr that also counts the messages of the transfer.
func axfrMessages(t *testing.T, addr, zone string, qtype uint16, serial uint32, signed bool, key string) ([]dns.RR, int, error) {
	t.Helper()
	m := new(dns.Msg)
	if qtype == dns.TypeIXFR {
		m.SetIxfr(zone, serial, "ns1."+zone, "hostmaster."+zone)
	} else {
		m.SetAxfr(zone)
	}
	tr := &dns.Transfer{DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
	if signed {
		m.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Unix())
		tr.TsigSecret = map[string]string{testKeyName: key}
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, 0, err
	}
	var out []dns.RR
	n := 0
	for env := range ch {
		if env.Error != nil {
			return out, n, env.Error
		}
		n++
		out = append(out, env.RR...)
	}
	return out, n, nil
}

// manyServices adds services enough for a transfer of several messages.
func manyServices(t *testing.T, src *fakeSource) {
	for s := range 8 {
		var blue, green []netip.Addr
		for i := range 64 {
			blue = append(blue, netip.MustParseAddr(fmt.Sprintf("2001:db8:%x::%x", s, i+1)))
			green = append(green, netip.MustParseAddr(fmt.Sprintf("2001:db8:%x:1::%x", s, i+1)))
		}
		src.apply(t, control.Command{Op: control.OpServicePut, Name: fmt.Sprintf("svc%d.%s", s, testZone), Service: &control.ServiceSpec{
			Blue: &control.Pool{Version: "1", Addresses: blue}, Green: &control.Pool{Version: "2", Addresses: green},
		}})
	}
}

func TestAXFR(t *testing.T) {
	src := newTestSource(t)
	s := startServer(t, Config{XFRKeys: []string{testKey}}, src)
	manyServices(t, src)
	rrs, msgs, err := axfrMessages(t, s.Addr(), testZone, dns.TypeAXFR, 0, true, testKeySecret)
	if err != nil {
		t.Fatalf("signed axfr: %v", err)
	}
	if msgs < 3 {
		t.Fatalf("transfer in %d messages; the test wants several to check the TSIG chain", msgs)
	}
	want := ZoneRecords(src.State(), testZone, false)
	if got, w := sectionStrings(rrs), sectionStrings(want); !equalStrings(got, w) {
		t.Fatalf("axfr records\n got %q\nwant %q", got, w)
	}
	if rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
		t.Fatal("axfr does not start and end with the SOA")
	}
	for _, line := range []string{
		"api.bg.example.test. 5 IN A 10.0.0.21",
		"blue.api.bg.example.test. 5 IN A 10.0.0.12",
		"green.api.bg.example.test. 5 IN AAAA 2001:db8::21",
		"preview.api.bg.example.test. 5 IN A 10.0.0.11",
		`_bgdns.api.bg.example.test. 5 IN TXT "active=green version=2.0 revision=4 state=validating"`,
		"ns1.bg.example.test. 3600 IN AAAA 2001:db8::53",
		"bg.example.test. 3600 IN NS ns2.elsewhere.test.",
	} {
		found := false
		for _, g := range sectionStrings(rrs) {
			found = found || g == rrStrings(t, []string{line})[0]
		}
		if !found {
			t.Errorf("axfr lacks %s", line)
		}
	}

	// IXFR from an older serial: the whole zone, as AXFR
	rrs, err = axfr(t, s.Addr(), testZone, dns.TypeIXFR, 1, true, testKeySecret)
	if err != nil || len(rrs) != len(want) {
		t.Fatalf("ixfr fallback: %d records, %v", len(rrs), err)
	}
}

func TestTransferRefusals(t *testing.T) {
	src := newTestSource(t)
	s := startServer(t, Config{XFRKeys: []string{testKey}}, src)

	// unsigned, from an address not allowed
	if rrs, err := axfr(t, s.Addr(), testZone, dns.TypeAXFR, 0, false, ""); err == nil {
		t.Fatalf("unsigned axfr from a stranger got %d records", len(rrs))
	}
	m := new(dns.Msg)
	m.SetAxfr(testZone)
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil || r.Rcode != dns.RcodeRefused {
		t.Fatalf("stranger: %v %v", r, err)
	}
	// signed with a wrong secret: NOTAUTH
	if _, err := axfr(t, s.Addr(), testZone, dns.TypeAXFR, 0, true, "d3Jvbmd3cm9uZ3dyb25nd3Jvbmc="); err == nil {
		t.Fatal("axfr with a wrong secret succeeded")
	}
	// a zone we do not have
	if _, err := axfr(t, s.Addr(), "example.com.", dns.TypeAXFR, 0, true, testKeySecret); err == nil {
		t.Fatal("axfr of a foreign zone succeeded")
	}
}

func TestTransferFromAllowedAddress(t *testing.T) {
	src := newTestSource(t)
	s := startServer(t, Config{AllowTransfer: []string{"127.0.0.0/8"}}, src)
	rrs, err := axfr(t, s.Addr(), testZone, dns.TypeAXFR, 0, false, "")
	if err != nil || len(rrs) < 3 {
		t.Fatalf("allowed address: %d records, %v", len(rrs), err)
	}
	// not at the apex
	m := new(dns.Msg)
	m.SetAxfr("api." + testZone)
	c := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	if r, _, err := c.Exchange(m, s.Addr()); err != nil || r.Rcode != dns.RcodeNotAuth {
		t.Fatalf("axfr below the apex: %v %v", r, err)
	}
	// AXFR needs TCP
	cu := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	if r, _, err := cu.Exchange(m, s.Addr()); err != nil || r.Rcode == dns.RcodeSuccess {
		t.Fatalf("axfr over udp: %v %v", r, err)
	}
}

func TestIXFRUpToDateAndOverUDP(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{AllowTransfer: []string{"198.51.100.0/24"}}, src)
	serial := src.State().Zone(testZone).Serial
	for _, tc := range []struct {
		have uint32
		tcp  bool
	}{{serial, true}, {serial + 10, true}, {serial, false}, {1, false}} {
		m := new(dns.Msg)
		m.SetIxfr(testZone, tc.have, "ns1."+testZone, "hostmaster."+testZone)
		r, _ := exchange(t, s, m, tc.tcp)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.SOA).Serial != serial {
			t.Errorf("ixfr have=%d tcp=%v: %v", tc.have, tc.tcp, r)
		}
	}
}

func TestTransferWhileNotServing(t *testing.T) {
	src := newTestSource(t)
	src.serving.Store(false)
	s := newTestServer(t, Config{AllowTransfer: []string{"198.51.100.7"}}, src)
	m := new(dns.Msg)
	m.SetAxfr(testZone)
	raw, _ := m.Pack()
	b, x := s.handle(raw, testClient, true)
	r := new(dns.Msg)
	if x != nil || r.Unpack(b) != nil || r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("stale node transferred: %v", r)
	}
}

func TestZoneRecordsFollowTheLifecycle(t *testing.T) {
	src := newTestSource(t)
	src.apply(t, control.Command{Op: control.OpComplete, Name: "api." + testZone})
	for _, rr := range ZoneRecords(src.State(), testZone, true) {
		switch rr.Header().Name {
		case "preview.api." + testZone:
			t.Errorf("preview of a retired colour in the zone: %v", rr)
		case "_bgdns.api." + testZone:
			t.Errorf("TXT record with TXT off: %v", rr)
		}
	}
	if ZoneRecords(src.State(), "example.com.", false) != nil {
		t.Error("records for a zone we do not have")
	}
}

func TestSignedUDPReplyFitsTheClient(t *testing.T) {
	src := newTestSource(t)
	name := bigService(t, src)
	s := newTestServer(t, Config{XFRKeys: []string{testKey}}, src)
	m := query(name, dns.TypeAAAA)
	m.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Unix())
	raw, mac, err := dns.TsigGenerate(m, testKeySecret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.handle(raw, testClient, false)
	if len(b) == 0 || len(b) > 512 {
		t.Fatalf("signed reply of %d bytes to a client without EDNS", len(b))
	}
	if err := dns.TsigVerify(b, testKeySecret, mac, false); err != nil {
		t.Fatalf("signed reply does not verify: %v", err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil || !r.Truncated {
		t.Fatalf("want TC=1: %v %v", r, err)
	}
}
