package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
)

func nsNameOf(id string) string { return "ns-" + id + "." + testZone }

// zoneNS is the NS set of testZone on tn ("" joined), and whether every
// in-zone name has 127.0.0.1 as glue.
func zoneNS(tn *tnode) (string, bool) {
	z := tn.n.State().Zone(testZone)
	if z == nil {
		return "", false
	}
	ok := true
	for _, ns := range z.NS {
		if !slices.Equal(z.Glue[ns], []netip.Addr{netip.MustParseAddr("127.0.0.1")}) {
			ok = false
		}
	}
	return fmt.Sprint(z.NS), ok && z.NSAuto
}

// TestZoneNSAutoFollowsMembers: a zone put with NSAuto gets the voters'
// NS names (with glue from their DNS addresses); an edge that joins with
// an NS name is added after the voters, and dropped again once removed.
func TestZoneNSAutoFollowsMembers(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.NSName = nsNameOf(cfg.NodeID) })
	voters := fmt.Sprint([]string{nsNameOf("a1"), nsNameOf("b1"), nsNameOf("c1")})
	// the voters joined without their NS names: they send them on their own
	eventually(t, 10*time.Second, "every voter's NS name recorded", func() bool {
		ms := c.leader().n.fsm.Members()
		return ms["a1"].NSName != "" && ms["b1"].NSName != "" && ms["c1"].NSName != ""
	})
	res := c.apply(control.Command{Op: control.OpZonePut, Name: testZone, Actor: "test",
		Zone: &control.ZoneSpec{NSAuto: true, NS: []string{"ignored.example.net"}}})
	if got := fmt.Sprint(res.Zone.NS); got != voters {
		t.Fatalf("NS of the auto zone: %s, want %s", got, voters)
	}

	e := c.addEdge("e1")
	withEdge := fmt.Sprint([]string{nsNameOf("a1"), nsNameOf("b1"), nsNameOf("c1"), nsNameOf("e1")})
	for _, tn := range c.nodes {
		eventually(t, 10*time.Second, tn.id+" serves the edge's NS name", func() bool {
			got, glued := zoneNS(tn)
			return got == withEdge && glued
		})
	}

	ctxRemove(t, c, e.id)
	eventually(t, 10*time.Second, "the removed edge's NS name dropped", func() bool {
		got, glued := zoneNS(c.leader())
		return got == voters && glued
	})

	// An operator's put without ns auto ends it: the set stays as given.
	c.apply(control.Command{Op: control.OpZonePut, Name: testZone, Actor: "test",
		Zone: &control.ZoneSpec{NS: []string{"ns.example.net"}}})
	time.Sleep(3 * nsFollowEvery) // several rounds, on purpose: nothing may change it back
	if z := c.leader().n.State().Zone(testZone); z.NSAuto || fmt.Sprint(z.NS) != "[ns.example.net.]" {
		t.Fatalf("zone after a plain put: auto %v NS %v", z.NSAuto, z.NS)
	}
}

// TestZoneNSAutoWithoutNames: with no member naming an NS, a zone put with
// NSAuto is refused.
func TestZoneNSAutoWithoutNames(t *testing.T) {
	c := newTestCluster(t, 1)
	res := c.propose(control.Command{Op: control.OpZonePut, Name: testZone, Actor: "test",
		Zone: &control.ZoneSpec{NSAuto: true}})
	if control.CodeOf(res.Err) != control.CodeInvalid {
		t.Fatalf("auto zone without any NS name: %v, want invalid", res.Err)
	}
}

func ctxRemove(t *testing.T, c *testCluster, id string) {
	t.Helper()
	c.retry("remove "+id, func(n *Node) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return n.Remove(ctx, id)
	})
}
