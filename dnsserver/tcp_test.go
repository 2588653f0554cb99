package dnsserver

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dialFrom opens a TCP connection to addr from the loopback address src
// (127.0.0.0/8 is all loopback on Linux).
func dialFrom(t testing.TB, src, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return d.Dial("tcp", addr)
}

// needLoopbackRange skips a test that connects from several loopback
// addresses where only 127.0.0.1 is loopback (macOS, BSDs).
func needLoopbackRange(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.1.1:0")
	if err != nil {
		t.Skipf("no loopback addresses besides 127.0.0.1 here: %v", err)
	}
	l.Close()
}

// askTCP sends one query on c and reads the reply.
func askTCP(t *testing.T, c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(tcpFrame(t, query("api."+testZone, dns.TypeA))); err != nil {
		return err
	}
	m, err := readFrame(c)
	if err != nil {
		return err
	}
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		return fmt.Errorf("reply %v", m)
	}
	return nil
}

// closedByServer reports whether the server closes c (before the client's
// own deadline runs out).
func closedByServer(c net.Conn, within time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(within))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestTCPBusyShortensIdleTimeout: with more than half the connection
// slots in use, a connection is closed soon after its answer, although
// the idle timeout is a minute; at half or less it stays open.
func TestTCPBusyShortensIdleTimeout(t *testing.T) {
	s := startServer(t, Config{MaxTCPConns: 8, MaxTCPConnsPerSource: 8, TCPIdleTimeout: time.Minute,
		BusyTCPIdleTimeout: 50 * time.Millisecond}, newTestSource(t))
	var held []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := askTCP(t, c); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if s.tcpBusy() || s.tcpWait() != time.Minute {
		t.Fatalf("4 of 8 slots in use: busy %v, idle timeout %v, want the full minute", s.tcpBusy(), s.tcpWait())
	}
	fifth, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer fifth.Close()
	if err := askTCP(t, fifth); err != nil {
		t.Fatal(err)
	}
	// Busy now: every connection's next answer is followed by a close
	// well within the client's 10 s (the idle timeout is a minute). All
	// are answered before any close could make the server less busy.
	all := append(held, fifth)
	for i, c := range all {
		if err := askTCP(t, c); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	for i, c := range all {
		if !closedByServer(c, 10*time.Second) {
			t.Fatalf("connection %d left open while the server is busy", i)
		}
	}
}

// TestTCPSlowClientsDoNotLockOthersOut: clients that each keep a
// connection and send a query every so often fill every slot; with the
// busy rule a fresh client still gets its answer within a few attempts.
func TestTCPSlowClientsDoNotLockOthersOut(t *testing.T) {
	needLoopbackRange(t)
	const slots, slow = 16, 48
	s := startServer(t, Config{MaxTCPConns: slots, MaxTCPConnsPerSource: slots, TCPIdleTimeout: time.Minute,
		BusyTCPIdleTimeout: 100 * time.Millisecond}, newTestSource(t))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for i := range slow {
		wg.Go(func() { slowClient(t, s.Addr(), fmt.Sprintf("127.0.1.%d", i+1), 500*time.Millisecond, stop) })
	}
	// Until every slot has been taken at least once, a fresh client
	// would get in anyway.
	waitFor(t, func() bool { return len(s.tcpSlots) == slots })

	const attempts = 20
	for i := range attempts {
		c, err := dialFrom(t, "127.0.0.1", s.Addr())
		if err == nil {
			err = askTCP(t, c)
			c.Close()
			if err == nil {
				return
			}
		}
		if i == attempts-1 {
			t.Fatalf("a fresh client got no answer in %d attempts: %v", attempts, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// slowClient keeps a connection to addr from src and sends a query on it
// every period, opening a new one whenever the server closed it, until
// stop is closed.
func slowClient(t *testing.T, addr, src string, period time.Duration, stop chan struct{}) {
	var c net.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		if c == nil {
			c, _ = dialFrom(t, src, addr)
		}
		if c != nil && askTCP(t, c) != nil {
			c.Close()
			c = nil
			continue // straight back in, as an eager client would
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
	}
}

// TestTCPPerSourceCap: one client gets MaxTCPConnsPerSource connections;
// another client still gets in.
func TestTCPPerSourceCap(t *testing.T) {
	needLoopbackRange(t)
	s := startServer(t, Config{MaxTCPConns: 16, MaxTCPConnsPerSource: 2, BusyTCPIdleTimeout: time.Minute}, newTestSource(t))
	for range 2 {
		c, err := dialFrom(t, "127.0.0.1", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := askTCP(t, c); err != nil {
			t.Fatal(err)
		}
	}
	third, err := dialFrom(t, "127.0.0.1", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if err := askTCP(t, third); err == nil {
		t.Fatal("a third connection from one client answered with a cap of 2 per client")
	}
	other, err := dialFrom(t, "127.0.0.2", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := askTCP(t, other); err != nil {
		t.Fatalf("another client: %v", err)
	}
	if c := (Config{MaxTCPConns: 256}).withDefaults(); c.MaxTCPConnsPerSource != 64 {
		t.Errorf("default per-source cap %d, want a quarter of 256", c.MaxTCPConnsPerSource)
	}
}
