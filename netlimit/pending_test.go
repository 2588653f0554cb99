package netlimit

import (
	"crypto/tls"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/bgdns/bgdns/pki"
)

// fakeConn records whether it was closed.
type fakeConn struct {
	net.Conn
	closed bool
}

func (f *fakeConn) Close() error { f.closed = true; return nil }

func TestPendingSetGivesWayFairly(t *testing.T) {
	p := newPendingSet(4)
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	var as []*fakeConn
	var ae []*pendingConn
	for i := 0; i < 4; i++ {
		fc := &fakeConn{}
		e := p.add(fc, a)
		if e == nil {
			t.Fatalf("a's connection %d refused under the budget", i)
		}
		as, ae = append(as, fc), append(ae, e)
	}
	if p.add(&fakeConn{}, a) != nil {
		t.Fatal("a, holding the whole budget, got a fifth connection")
	}
	// b takes a's oldest place.
	if p.add(&fakeConn{}, b) == nil {
		t.Fatal("b refused while a held every pending slot")
	}
	if !as[0].closed || as[1].closed {
		t.Fatalf("eviction: a's oldest closed=%v, next closed=%v; want only the oldest", as[0].closed, as[1].closed)
	}
	if p.done(ae[0]) {
		t.Fatal("done on an evicted connection reported it still pending")
	}
	// a 3, b 1: b again takes one of a's.
	if p.add(&fakeConn{}, b) == nil || !as[1].closed {
		t.Fatal("b's second connection did not take a's oldest place")
	}
	// a 2, b 2: neither may push the other out; a third source may.
	if p.add(&fakeConn{}, a) != nil || p.add(&fakeConn{}, b) != nil {
		t.Fatal("a source at the top share pushed out another's connection")
	}
	if p.add(&fakeConn{}, c) == nil {
		t.Fatal("a new source refused while others hold two each")
	}
	// A finished handshake frees its slot.
	if !p.done(ae[3]) {
		t.Fatal("done on a pending connection reported it evicted")
	}
	if n, ev := p.count(); n != 3 || ev != 3 {
		t.Fatalf("pending %d evictions %d, want 3 and 3", n, ev)
	}
}

// Idle connections from a few sources, each within its share of the
// listener's bounds, must not keep a legitimate client's handshake out:
// they can hold at most the pending budget, and a new source takes the
// place of the heaviest one's oldest.
func TestIdleSourcesCannotFillTheHandshakeBudget(t *testing.T) {
	dir := t.TempDir()
	if err := pki.CreateCA(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	cert, key, err := pki.CreateCert(pki.CertRequest{CADir: dir, Name: "n1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := pki.Load(pki.Files{Cert: cert, Key: key, CA: filepath.Join(dir, pki.CAFile)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const total, perSource = 32, 8
	lim := New(total, perSource, "test", nil)
	h := NewHandshakeListener(Wrap(raw, lim), b.APIServer(), lim, 5*time.Second)
	defer h.Close()
	go func() {
		for {
			c, err := h.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = c.Read(make([]byte, 1)); c.Close() }()
		}
	}()

	// Four sources open their full share each (32 = the whole bound) and
	// never send a byte.
	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for s := 2; s <= 5; s++ {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(s))}}
		for i := 0; i < perSource; i++ {
			c, err := d.Dial("tcp", raw.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			idle = append(idle, c)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if n, _ := h.Pending(); n == total/PendingShare || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, _ := h.Pending(); n != total/PendingShare {
		t.Fatalf("%d connections pending, want the budget %d", n, total/PendingShare)
	}
	// Connections refused past the budget are closed as they arrive;
	// the last may still be on its way out.
	for time.Now().Before(deadline) && lim.Open() > total/PendingShare {
		time.Sleep(10 * time.Millisecond)
	}
	if open := lim.Open(); open > total/PendingShare {
		t.Fatalf("%d connections still counted against the bound of %d; idle ones past the handshake budget must be closed", open, total)
	}

	// A client from a fifth source completes its handshake.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9)}, Timeout: 5 * time.Second}
	cfg := &tls.Config{RootCAs: b.Pool(), ServerName: "server.bgdns", MinVersion: tls.VersionTLS12}
	c, err := tls.DialWithDialer(&d, "tcp", raw.Addr().String(), cfg)
	if err != nil {
		t.Fatalf("a legitimate client could not complete its handshake behind idle connections: %v", err)
	}
	c.Close()
	if _, ev := h.Pending(); ev == 0 {
		t.Fatal("no idle connection gave way to the new client")
	}
}
