package dnsserver

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestRRLPerPrefixWithSlip(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{RRLRate: 5, RRLSlip: 2}, src)
	now := time.Unix(1_800_000_000, 0)
	s.clock = func() time.Time { return now }

	send := func(from string, tcp bool) (answered, slipped bool) {
		raw, _ := query("api."+testZone, dns.TypeA).Pack()
		b, _ := s.handle(raw, netip.MustParseAddrPort(from), tcp)
		if b == nil {
			return false, false
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if m.Truncated && len(m.Answer) == 0 {
			return false, true
		}
		return len(m.Answer) == 1, false
	}
	count := func(from string, n int) (answered, slipped, dropped int) {
		for range n {
			a, sl := send(from, false)
			switch {
			case a:
				answered++
			case sl:
				slipped++
			default:
				dropped++
			}
		}
		return
	}

	if a, sl, d := count("198.51.100.7:1000", 20); a != 5 || sl != 7 || d != 8 {
		t.Fatalf("20 queries at rate 5 slip 2: answered %d slipped %d dropped %d, want 5/7/8", a, sl, d)
	}
	// same /24: same budget, already spent
	if a, _, _ := count("198.51.100.200:1000", 3); a != 0 {
		t.Fatalf("same /24 answered %d", a)
	}
	// another /24 has its own
	if a, _, _ := count("198.51.101.1:1000", 5); a != 5 {
		t.Fatalf("other /24 answered %d of 5", a)
	}
	// TCP is never limited
	if a, _ := send("198.51.100.7:1000", true); !a {
		t.Fatal("tcp was limited")
	}
	// IPv6 per /56
	if a, _, _ := count("[2001:db8:0:1::1]:53", 5); a != 5 {
		t.Fatalf("v6 answered %d of 5", a)
	}
	if a, _, _ := count("[2001:db8:0:ff::1]:53", 2); a != 0 {
		t.Fatalf("same /56 answered %d", a)
	}
	if a, _, _ := count("[2001:db8:0:100::1]:53", 2); a != 2 {
		t.Fatalf("other /56 answered %d of 2", a)
	}
	// the next second refills
	now = now.Add(time.Second)
	if a, _, _ := count("198.51.100.7:1000", 6); a != 5 {
		t.Fatalf("next second answered %d of 6", a)
	}
}

func TestRRLSlipZeroDropsAll(t *testing.T) {
	r := newRRL(1, 0)
	a := netip.MustParseAddr("192.0.2.1")
	if r.check(a, 7) != rrlAllow {
		t.Fatal("first response limited")
	}
	for range 10 {
		if got := r.check(a, 7); got != rrlDrop {
			t.Fatalf("over the limit with slip 0: %v", got)
		}
	}
	if newRRL(0, 2) != nil {
		t.Fatal("rate 0 must turn limiting off")
	}
}

// TestRRLClockRunsWhileServing: a started server with the limiter on
// counts responses in the current second without reading the time for
// each one, and the clock stops with the server.
func TestRRLClockRunsWhileServing(t *testing.T) {
	s := startServer(t, Config{RRLRate: DefaultRRLRate}, newTestSource(t))
	waitFor(t, func() bool {
		d := time.Now().Unix() - s.rrlSecond()
		return s.rrlClock.sec.Load() != 0 && d >= 0 && d <= 1
	})
}
