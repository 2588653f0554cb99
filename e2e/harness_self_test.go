package e2e

import (
	"net"
	"strings"
	"testing"
	"time"
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

// A node bound on every interface whose API port is taken on another
// loopback address before it starts (what a client's connection can do)
// is started again on a new port, and advertises it.
func TestHarnessPortTakenOnEveryInterface(t *testing.T) {
	n := NewNode(t, NodeOptions{ID: "p2", Bootstrap: true, HTTPAll: true, Args: []string{"--insecure"}})
	_, port, _ := net.SplitHostPort(n.HTTPAddr)
	l, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n.Start()
	n.WaitReady()
	if _, p, _ := net.SplitHostPort(n.HTTPAddr); p == port || n.portTries != 1 {
		t.Fatalf("API address %s (port %s taken), %d retries", n.HTTPAddr, port, n.portTries)
	}
	if !strings.Contains(n.lastRunLog(), "--http-addr 0.0.0.0:") {
		t.Fatalf("the new run is not bound on every interface:\n%s", n.LogTail(5))
	}
}

// TestHarnessPause checks Pause and Resume: a paused node does not answer,
// a resumed one does, and a paused node is still stopped cleanly.
func TestHarnessPause(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "z1", Bootstrap: true})
	n.Pause()
	if _, err := DigE(n.DNSAddr, testZone, "SOA"); err == nil {
		t.Fatal("a paused node answered")
	}
	n.Resume()
	eventually(t, 10*time.Second, "answers after Resume", func() error {
		_, err := DigE(n.DNSAddr, testZone, "SOA")
		return err
	})
	n.Pause()
	n.Stop() // SIGTERM reaches it: the harness sends SIGCONT after it
	if n.Running() {
		t.Fatal("still running after Stop")
	}
}
