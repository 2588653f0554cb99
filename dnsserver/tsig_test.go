package dnsserver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// signedQuery packs m signed with key name and secret at time at.
func signedQuery(t *testing.T, m *dns.Msg, name, secret string, at time.Time) []byte {
	t.Helper()
	raw, _ := signedQueryMAC(t, m, name, secret, at)
	return raw
}

// signedQueryMAC is signedQuery that also returns the request's MAC.
func signedQueryMAC(t *testing.T, m *dns.Msg, name, secret string, at time.Time) ([]byte, string) {
	t.Helper()
	m.SetTsig(name, dns.HmacSHA256, 300, at.Unix())
	raw, mac, err := dns.TsigGenerate(m, secret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	return raw, mac
}

// unpackReply decodes a reply the handler returned.
func unpackReply(t *testing.T, b []byte) *dns.Msg {
	t.Helper()
	if b == nil {
		t.Fatal("no reply")
	}
	r := new(dns.Msg)
	if err := r.Unpack(b); err != nil {
		t.Fatalf("unpack reply: %v", err)
	}
	return r
}

// TestTSIGErrorReplies checks the NOTAUTH reply to a request whose key is
// unknown or whose MAC is wrong: the TSIG error, no MAC, the server's own
// time as Time Signed (a client checks it against its clock), and an OPT
// record exactly when the request had one.
func TestTSIGErrorReplies(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{XFRKeys: []string{testKey}}, src)
	serverTime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s.clock = func() time.Time { return serverTime }
	for _, tc := range []struct {
		name, key, secret string
		want              uint16
	}{
		{"unknown key", "other-key.", testKeySecret, dns.RcodeBadKey},
		{"wrong secret", testKeyName, "d3Jvbmd3cm9uZ3dyb25nd3Jvbmc=", dns.RcodeBadSig},
	} {
		for _, edns := range []bool{false, true} {
			m := query(testZone, dns.TypeAXFR)
			if edns {
				m.SetEdns0(1232, false)
			}
			raw := signedQuery(t, m, tc.key, tc.secret, serverTime.Add(-10*time.Second))
			b, x := s.handle(raw, testClient, true)
			if x != nil {
				t.Fatalf("%s: transferred", tc.name)
			}
			r := unpackReply(t, b)
			if r.Rcode != dns.RcodeNotAuth {
				t.Errorf("%s: rcode %s, want NOTAUTH", tc.name, dns.RcodeToString[r.Rcode])
			}
			ts := r.IsTsig()
			if ts == nil {
				t.Fatalf("%s: no TSIG in the reply", tc.name)
			}
			if ts.Error != tc.want || ts.MAC != "" || ts.MACSize != 0 {
				t.Errorf("%s: TSIG error %d mac %q, want error %d without a MAC", tc.name, ts.Error, ts.MAC, tc.want)
			}
			if ts.TimeSigned != uint64(serverTime.Unix()) {
				t.Errorf("%s: Time Signed %d, want the server's time %d", tc.name, ts.TimeSigned, serverTime.Unix())
			}
			if got := r.IsEdns0() != nil; got != edns {
				t.Errorf("%s: OPT in the reply %v, want %v (as in the request)", tc.name, got, edns)
			}
			if edns && r.Extra[len(r.Extra)-1].Header().Rrtype != dns.TypeTSIG {
				t.Errorf("%s: TSIG is not the last record", tc.name)
			}
		}
	}
}

// TestTransferRepliesCarryOPT checks that every reply to a transfer
// request with EDNS carries an OPT record: refusals, the SOA alone of an
// up-to-date IXFR, and each message of a transfer, signed or not.
func TestTransferRepliesCarryOPT(t *testing.T) {
	src := newTestSource(t)
	manyServices(t, src)
	s := newTestServer(t, Config{XFRKeys: []string{testKey}, AllowTransfer: []string{"198.51.100.0/24"}}, src)
	serial := src.State().Zone(testZone).Serial
	stranger := netip.MustParseAddrPort("203.0.113.9:5300")

	single := func(name string, m *dns.Msg, tcp bool, from string) {
		t.Helper()
		for _, edns := range []bool{false, true} {
			req := m.Copy()
			if edns {
				req.SetEdns0(1232, false)
			}
			raw, err := req.Pack()
			if err != nil {
				t.Fatal(err)
			}
			b, x := s.handle(raw, netip.MustParseAddrPort(from), tcp)
			if x != nil {
				t.Fatalf("%s: a transfer, want a single reply", name)
			}
			r := unpackReply(t, b)
			if got := r.IsEdns0() != nil; got != edns {
				t.Errorf("%s (rcode %s): OPT in the reply %v, want %v", name, dns.RcodeToString[r.Rcode], got, edns)
			}
		}
	}
	axfr := new(dns.Msg)
	axfr.SetAxfr(testZone)
	ixfr := new(dns.Msg)
	ixfr.SetIxfr(testZone, serial, "ns1."+testZone, "hostmaster."+testZone)
	below := new(dns.Msg)
	below.SetAxfr("api." + testZone)
	single("refused", axfr, true, stranger.String())
	single("axfr over udp", axfr, false, testClient.String())
	single("not at the apex", below, true, testClient.String())
	single("ixfr up to date", ixfr, true, testClient.String())
	single("ixfr over udp", ixfr, false, testClient.String())

	for _, signed := range []bool{false, true} {
		for _, edns := range []bool{false, true} {
			req := new(dns.Msg)
			req.SetAxfr(testZone)
			if edns {
				req.SetEdns0(1232, false)
			}
			var raw []byte
			var mac string
			if signed {
				raw, mac = signedQueryMAC(t, req, testKeyName, testKeySecret, time.Now())
			} else {
				raw, _ = req.Pack()
			}
			from := testClient
			if signed {
				from = stranger
			}
			_, x := s.handle(raw, from, true)
			if x == nil {
				t.Fatalf("signed %v edns %v: no transfer", signed, edns)
			}
			n := 0
			err := x.frames(func(b []byte) error {
				n++
				r := unpackReply(t, b)
				if got := r.IsEdns0() != nil; got != edns {
					t.Errorf("signed %v: message %d: OPT %v, want %v", signed, n, got, edns)
				}
				if signed {
					if r.Extra[len(r.Extra)-1].Header().Rrtype != dns.TypeTSIG {
						t.Errorf("message %d: TSIG is not the last record", n)
					}
					if err := dns.TsigVerify(b, testKeySecret, mac, n > 1); err != nil {
						t.Errorf("message %d does not verify: %v", n, err)
					}
					mac = r.IsTsig().MAC
				}
				return nil
			})
			if err != nil || n < 2 {
				t.Fatalf("signed %v edns %v: %d messages, %v", signed, edns, n, err)
			}
		}
	}
}
