package e2e

import (
	"net"
	"testing"
)

// TestHarnessPortTaken checks the harness itself: when a probed port is
// taken before bgdns binds it, the node starts again on new ports.
func TestHarnessPortTaken(t *testing.T) {
	n := NewNode(t, NodeOptions{ID: "p1", Bootstrap: true})
	taken := n.DNSAddr
	pc, err := net.ListenPacket("udp", taken)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	n.Start()
	n.WaitReady()
	if n.DNSAddr == taken || n.portTries != 1 {
		t.Fatalf("DNS address %s (taken %s), %d retries", n.DNSAddr, taken, n.portTries)
	}
	if s := serialOf(t, n, testZone); s == 0 {
		t.Fatal("serial 0")
	}
}
