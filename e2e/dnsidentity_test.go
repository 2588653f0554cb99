package e2e

import (
	"strings"
	"testing"
)

// TestHideIdentityWithDig: a node started with --hide-identity gives no
// NSID and refuses id.server and hostname.bind; without it, it tells its
// node id in both.
func TestHideIdentityWithDig(t *testing.T) {
	for _, hide := range []bool{false, true} {
		o := NodeOptions{ID: "h1", Bootstrap: true}
		if hide {
			o.Args = []string{"--hide-identity"}
		}
		n := StartNode(t, o)
		for _, name := range []string{"id.server.", "hostname.bind."} {
			a := n.Dig("CH", "TXT", "-q", name) // dig: -q NAME CH TXT
			told := a.Status == "NOERROR" && strings.Contains(a.Raw, `"h1"`)
			switch {
			case hide && a.Status != "REFUSED":
				t.Errorf("--hide-identity: %s CH TXT: want REFUSED\n%s", name, a.Raw)
			case !hide && !told:
				t.Errorf("%s CH TXT: want the node id\n%s", name, a.Raw)
			}
		}
		a := n.Dig(testZone, "SOA", "+nsid")
		if a.Status != "NOERROR" {
			t.Fatalf("SOA +nsid: %s\n%s", a.Status, a.Raw)
		}
		if got := strings.Contains(a.Raw, "NSID"); got == hide {
			t.Errorf("hide-identity %v: NSID in the reply %v\n%s", hide, got, a.Raw)
		}
		n.Stop()
	}
}
