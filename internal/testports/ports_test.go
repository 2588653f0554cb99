package testports

import (
	"net"
	"strconv"
	"testing"
)

func TestFreePortsAreBelowTheEphemeralRangeAndNeverRepeat(t *testing.T) {
	hi := ephemeralStart()
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		addr, err := Free("127.0.0.1", i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		_, ps, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(ps)
		if hi-low >= 1000 && (p < low || p >= hi) {
			t.Fatalf("port %d outside [%d, %d)", p, low, hi)
		}
		if seen[ps] {
			t.Fatalf("port %s handed out twice", ps)
		}
		seen[ps] = true
	}
}

// A port in use on one loopback address is not free on every interface.
func TestProbeOnEveryInterfaceSeesAPortTakenOnOne(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, taken, _ := net.SplitHostPort(l.Addr().String())
	if _, err := probe("0.0.0.0", mustAtoi(t, taken), false); err == nil {
		t.Fatalf("port %s bound on 127.0.0.1 probed free on every interface", taken)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFreeRangeIsConsecutiveFreeAndHandedOut(t *testing.T) {
	base, err := FreeRange("127.0.0.1", 3, true)
	if err != nil {
		t.Fatal(err)
	}
	for p := base; p < base+3; p++ {
		if _, err := probe("127.0.0.1", p, true); err != nil {
			t.Fatalf("port %d of the range is not free: %v", p, err)
		}
		if !handed[p] {
			t.Fatalf("port %d of the range was not recorded as handed out", p)
		}
	}
	for i := 0; i < 200; i++ {
		addr, err := Free("127.0.0.1", false)
		if err != nil {
			t.Fatal(err)
		}
		if _, ps, _ := net.SplitHostPort(addr); ps == strconv.Itoa(base) || ps == strconv.Itoa(base+1) || ps == strconv.Itoa(base+2) {
			t.Fatalf("Free handed out %s from the range", addr)
		}
	}
}
