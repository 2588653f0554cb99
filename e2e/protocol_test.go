package e2e

import (
	"fmt"
	"testing"
)

// TestProtocolLimits checks with dig the wire rules that depend
// on answer size: TC=1 over UDP when the answer does not fit (512 bytes
// without EDNS, the server's 1232 with it), the whole answer over TCP, ANY
// answered minimally, and zone transfers refused to strangers.
func TestProtocolLimits(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "w1", Bootstrap: true})
	var v6 []string
	for i := 1; i <= 64; i++ {
		v6 = append(v6, fmt.Sprintf("2001:db8::%x", i))
	}
	mutate(t, "PUT", n.URL()+"/v1/services/"+svcName,
		map[string]any{"ttl": 5, "blue": map[string]any{"version": "1.0", "addresses": v6}})

	for _, c := range []struct{ what, opt string }{
		{"UDP without EDNS", "+noedns"},
		{"UDP with EDNS 1232", "+bufsize=1232"},
		{"UDP with EDNS 4096 (the server keeps to 1232)", "+bufsize=4096"},
	} {
		a := n.Dig(svcName, "AAAA", c.opt, "+ignore")
		if a.Status != "NOERROR" || !a.HasFlag("tc") || !a.HasFlag("aa") || len(a.Answer) == 64 {
			t.Errorf("%s: want a truncated (TC=1) authoritative answer\n%s", c.what, a.Raw)
		}
	}
	wantAddrs(t, "TCP", n.Dig(svcName, "AAAA", "+tcp"), "AAAA", 5, v6...)
	if a := n.Dig(svcName, "AAAA", "+tcp"); a.HasFlag("tc") {
		t.Errorf("TC set over TCP\n%s", a.Raw)
	}

	// A zone transfer from a stranger (no TSIG key, not in an allow list).
	if a := n.Dig(testZone, "AXFR", "+comments"); a.Status != "REFUSED" || len(a.Answer) != 0 {
		t.Errorf("AXFR from a stranger: want REFUSED\n%s", a.Raw)
	}

	// ANY: minimal (RFC 8482), never the whole node.
	a := n.Dig(svcName, "ANY")
	types := map[string]bool{}
	for _, rr := range a.Answer {
		types[rr.Type] = true
	}
	if a.Status != "NOERROR" || !a.HasFlag("aa") || len(types) > 1 || len(a.Answer) == 0 {
		t.Errorf("ANY: want one minimal RRset\n%s", a.Raw)
	}
}
