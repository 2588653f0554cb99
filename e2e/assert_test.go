package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// checkAddrs returns an error unless a is an authoritative NOERROR answer
// whose records of type typ are exactly want (in any order), all with ttl
// when ttl is non-zero.
func checkAddrs(a *DNSAnswer, typ string, ttl uint32, want ...string) error {
	if a.Status != "NOERROR" {
		return fmt.Errorf("status %s, want NOERROR\n%s", a.Status, a.Raw)
	}
	if !a.HasFlag("aa") {
		return fmt.Errorf("AA not set\n%s", a.Raw)
	}
	w := append([]string(nil), want...)
	sort.Strings(w)
	if got := a.Values(typ); strings.Join(got, ",") != strings.Join(w, ",") {
		return fmt.Errorf("%s records %v, want %v\n%s", typ, got, w, a.Raw)
	}
	for _, rr := range a.Answer {
		if ttl != 0 && rr.Type == typ && rr.TTL != ttl {
			return fmt.Errorf("TTL %d, want %d\n%s", rr.TTL, ttl, a.Raw)
		}
	}
	return nil
}

// wantAddrs fails the test unless checkAddrs passes.
func wantAddrs(t testing.TB, what string, a *DNSAnswer, typ string, ttl uint32, want ...string) {
	t.Helper()
	if err := checkAddrs(a, typ, ttl, want...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// checkNegative returns an error unless a is an authoritative negative
// answer with rcode status (NOERROR for NODATA, or NXDOMAIN): no answer
// records, the zone's SOA in the authority section, its TTL being the SOA
// minimum (the negative-caching TTL).
func checkNegative(a *DNSAnswer, status, zone string) error {
	if a.Status != status {
		return fmt.Errorf("status %s, want %s\n%s", a.Status, status, a.Raw)
	}
	if !a.HasFlag("aa") {
		return fmt.Errorf("AA not set\n%s", a.Raw)
	}
	if len(a.Answer) != 0 {
		return fmt.Errorf("answer section not empty\n%s", a.Raw)
	}
	for _, rr := range a.Authority {
		if rr.Type != "SOA" {
			continue
		}
		if !strings.EqualFold(rr.Name, zone) {
			return fmt.Errorf("SOA owner %s, want %s\n%s", rr.Name, zone, a.Raw)
		}
		f := strings.Fields(rr.Data)
		if len(f) != 7 {
			return fmt.Errorf("SOA rdata %q\n%s", rr.Data, a.Raw)
		}
		if f[6] != fmt.Sprint(rr.TTL) {
			return fmt.Errorf("negative TTL %d, want the SOA minimum %s\n%s", rr.TTL, f[6], a.Raw)
		}
		return nil
	}
	return fmt.Errorf("no SOA in the authority section\n%s", a.Raw)
}

// wantNegative fails the test unless checkNegative passes.
func wantNegative(t testing.TB, what string, a *DNSAnswer, status, zone string) {
	t.Helper()
	if err := checkNegative(a, status, zone); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantTXT fails the test unless a holds exactly one TXT record carrying
// every key=value in want (other keys may be present).
func wantTXT(t testing.TB, what string, a *DNSAnswer, want map[string]string) {
	t.Helper()
	if err := checkTXT(a, want); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func checkTXT(a *DNSAnswer, want map[string]string) error {
	if a.Status != "NOERROR" || !a.HasFlag("aa") {
		return fmt.Errorf("status %s flags %v\n%s", a.Status, a.Flags, a.Raw)
	}
	txt := a.TXT()
	if len(txt) != 1 {
		return fmt.Errorf("%d TXT records, want 1\n%s", len(txt), a.Raw)
	}
	got := map[string]string{}
	for _, kv := range strings.Fields(txt[0]) {
		k, v, _ := strings.Cut(kv, "=")
		got[k] = v
	}
	for k, v := range want {
		if got[k] != v {
			return fmt.Errorf("TXT %s=%q, want %q in %q", k, got[k], v, txt[0])
		}
	}
	return nil
}

// serialOf returns the SOA serial of zone as node n serves it.
func serialOf(t testing.TB, n *Node, zone string) uint32 {
	t.Helper()
	a := n.Dig(zone, "SOA")
	if a.Status != "NOERROR" || !a.HasFlag("aa") || len(a.Values("SOA")) != 1 {
		t.Fatalf("SOA of %s: want one authoritative SOA\n%s", zone, a.Raw)
	}
	s, _ := a.SOASerial()
	return s
}

// serialTracker checks that a zone's SOA serial moves on after every change.
type serialTracker struct {
	t    testing.TB
	n    *Node
	zone string
	last uint32
}

func newSerialTracker(t testing.TB, n *Node, zone string) *serialTracker {
	t.Helper()
	return &serialTracker{t: t, n: n, zone: zone, last: serialOf(t, n, zone)}
}

// moved fails the test unless the serial grew since the last call.
func (s *serialTracker) moved(after string) {
	s.t.Helper()
	cur := serialOf(s.t, s.n, s.zone)
	if cur <= s.last {
		s.t.Fatalf("SOA serial of %s after %s: %d, want more than %d", s.zone, after, cur, s.last)
	}
	s.last = cur
}
