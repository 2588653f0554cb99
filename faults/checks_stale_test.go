package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const sec = int64(time.Second)

var rules = StaleRules{Policy: "serve", MaxStale: 2 * time.Second, StaleTTL: time.Second, Margin: 500 * time.Millisecond}

func ans(node string, at int64, rcode int, stale bool, ttl uint32, rev uint64) Answer {
	return Answer{Sent: at, Recv: at + int64(time.Millisecond), Node: node, Service: "svc0.faults.test.",
		Rcode: rcode, Stale: stale, MaxTTL: ttl, Revision: rev, HasRev: rcode == dns.RcodeSuccess}
}

// n2 is cut off from 10 s to 20 s: past 12.5 s it must not answer as
// current (serve) or at all (servfail).
func TestCheckCutOff(t *testing.T) {
	cuts := CutWindows([]Fault{{Kind: "isolate", Node: "n2", At: 10 * sec, Until: 20 * sec, Cut: []string{"n2"}}}, 30*sec)
	good := []Answer{
		ans("n2", 11*sec, dns.RcodeSuccess, false, 30, 5), // before max-stale+margin: may still be fresh
		ans("n2", 13*sec, dns.RcodeSuccess, true, 1, 5),
		ans("n1", 13*sec, dns.RcodeSuccess, false, 30, 6), // not cut off
		ans("n2", 21*sec, dns.RcodeSuccess, false, 30, 6), // healed
	}
	if v, counts := CheckCutOff(good, cuts, rules); len(v) != 0 || counts["stale"] != 1 {
		t.Fatalf("serve, stale answers while cut off: %v %v", v, counts)
	}
	bad := append(good, ans("n2", 19*sec, dns.RcodeSuccess, false, 30, 5))
	v, counts := CheckCutOff(bad, cuts, rules)
	if len(v) != 1 || v[0].Check != "stale-policy" || !strings.Contains(v[0].Message, "n2 at 19s, 9s after the cut") || counts["fresh"] != 1 {
		t.Fatalf("serve, a fresh answer while cut off: %v %v", v, counts)
	}

	sf := rules
	sf.Policy = "servfail"
	ok := []Answer{ans("n2", 11*sec, dns.RcodeSuccess, false, 30, 5), ans("n2", 13*sec, dns.RcodeServerFailure, false, 0, 0)}
	if v, _ := CheckCutOff(ok, cuts, sf); len(v) != 0 {
		t.Fatalf("servfail, SERVFAIL while cut off: %v", v)
	}
	// a stale-marked NOERROR is still an answer: servfail allows none
	for _, a := range []Answer{ans("n2", 13*sec, dns.RcodeSuccess, true, 1, 5), ans("n2", 13*sec, dns.RcodeSuccess, false, 30, 5)} {
		if v, _ := CheckCutOff(append(ok, a), cuts, sf); len(v) != 1 || !strings.Contains(v[0].Message, "servfail") {
			t.Fatalf("servfail, NOERROR (stale=%v) while cut off: %v", a.Stale, v)
		}
	}
}

func TestCheckStaleTTL(t *testing.T) {
	if v := CheckStaleTTL([]Answer{ans("n1", sec, dns.RcodeSuccess, true, 1, 3), ans("n1", sec, dns.RcodeSuccess, false, 30, 3)}, rules); len(v) != 0 {
		t.Fatal(v)
	}
	v := CheckStaleTTL([]Answer{ans("n1", sec, dns.RcodeSuccess, true, 30, 3)}, rules)
	if len(v) != 1 || !strings.Contains(v[0].Message, "TTL 30") {
		t.Fatal(v)
	}
}

func TestCheckFreshRevisions(t *testing.T) {
	ops := []Op{
		{Service: "svc0.faults.test.", Outcome: OK, Index: 10, Return: 5 * sec, RequestID: "a"},
		{Service: "svc0.faults.test.", Outcome: Unknown, Index: 0, Return: 5 * sec, RequestID: "b"},
		{Service: "svc0.faults.test.", Outcome: OK, Index: 20, Return: 9 * sec, RequestID: "c"},
	}
	good := []Answer{
		ans("n1", 6*sec, dns.RcodeSuccess, false, 30, 4),  // a is younger than max-stale+margin
		ans("n1", 8*sec, dns.RcodeSuccess, false, 30, 10), // a 3 s old: at least 10
		ans("n2", 9*sec, dns.RcodeSuccess, true, 1, 4),    // stale: no bound
		ans("n3", 9*sec, dns.RcodeServerFailure, false, 0, 0),
		ans("n1", 12*sec, dns.RcodeSuccess, false, 30, 20),
	}
	if v := CheckFreshRevisions(good, ops, rules); len(v) != 0 {
		t.Fatal(v)
	}
	bad := append(good, ans("n3", 12*sec, dns.RcodeSuccess, false, 30, 10))
	v := CheckFreshRevisions(bad, ops, rules)
	if len(v) != 1 || !strings.Contains(v[0].Message, "n3 at 12s answered revision 10") || !strings.Contains(v[0].Message, "c was acknowledged at index 20") {
		t.Fatal(v)
	}
}

func TestCheckRemoved(t *testing.T) {
	as := []Answer{
		ans("n4", 10*sec, dns.RcodeSuccess, false, 30, 3), // before the removal
		ans("n4", 12*sec, dns.RcodeSuccess, true, 1, 3),   // within max-stale+margin
		ans("n4", 20*sec, dns.RcodeServerFailure, false, 0, 0),
		ans("n1", 20*sec, dns.RcodeSuccess, false, 30, 5),
	}
	if v, counts := CheckRemoved(as, "n4", 11*sec, rules); len(v) != 0 || counts["SERVFAIL"] != 1 {
		t.Fatal(v, counts)
	}
	v, _ := CheckRemoved(append(as, ans("n4", 30*sec, dns.RcodeSuccess, true, 1, 3)), "n4", 11*sec, rules)
	if len(v) != 1 || !strings.Contains(v[0].Message, "at 30s (stale=true") {
		t.Fatal(v)
	}
}

func TestCountString(t *testing.T) {
	if got := countString(map[string]int{"loss": 2, "isolate": 1}); got != "isolate:1,loss:2" {
		t.Fatal(got)
	}
}
