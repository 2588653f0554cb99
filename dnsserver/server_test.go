package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func startServer(t *testing.T, cfg Config, src Source) *Server {
	t.Helper()
	s := newTestServer(t, cfg, src)
	if err := s.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

func TestServeUDPAndTCPOnTheSamePort(t *testing.T) {
	src := newTestSource(t)
	s := startServer(t, Config{}, src)
	_, port, err := net.SplitHostPort(s.Addr())
	if err != nil || port == "0" {
		t.Fatalf("addr %q", s.Addr())
	}
	name := bigService(t, src)
	for _, netw := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
		m, _, err := c.Exchange(query("api."+testZone, dns.TypeA), s.Addr())
		if err != nil {
			t.Fatalf("%s: %v", netw, err)
		}
		if !m.Authoritative || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "10.0.0.21" {
			t.Fatalf("%s: %v", netw, m)
		}
		// the big answer: truncated over UDP, whole over TCP
		m, _, err = c.Exchange(query(name, dns.TypeAAAA), s.Addr())
		if err != nil {
			t.Fatalf("%s big: %v", netw, err)
		}
		if want := netw == "udp"; m.Truncated != want {
			t.Fatalf("%s big: tc=%v", netw, m.Truncated)
		}
		if netw == "tcp" && len(m.Answer) != 64 {
			t.Fatalf("tcp big: %d answers", len(m.Answer))
		}
	}
}

// tcpFrame is a query in TCP framing.
func tcpFrame(t *testing.T, m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}

func readFrame(c net.Conn) (*dns.Msg, error) {
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	return m, m.Unpack(b)
}

func TestTCPPipeliningAndQueryCap(t *testing.T) {
	src := newTestSource(t)
	s := startServer(t, Config{MaxTCPQueries: 3}, src)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// four queries in one write
	var burst []byte
	ids := map[uint16]bool{}
	for i := range 4 {
		q := query("api."+testZone, dns.TypeA)
		q.Id = uint16(100 + i)
		ids[q.Id] = true
		burst = append(burst, tcpFrame(t, q)...)
	}
	if _, err := c.Write(burst); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m, err := readFrame(c)
		if err != nil {
			t.Fatalf("reading a pipelined reply: %v", err)
		}
		if !ids[m.Id] || len(m.Answer) != 1 {
			t.Fatalf("reply %d: %v", m.Id, m)
		}
		delete(ids, m.Id)
	}
	// the fourth is past the cap: the server closes the connection
	if _, err := readFrame(c); err == nil {
		t.Fatal("a fourth reply on a connection capped at 3 queries")
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	src := newTestSource(t)
	s := startServer(t, Config{TCPIdleTimeout: 200 * time.Millisecond}, src)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	_, err = c.Read(b[:])
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("idle connection not closed by the server: %v", err)
	}
}

func TestTCPConnectionCap(t *testing.T) {
	src := newTestSource(t)
	// Both connections from one client, held past the busy rule's short
	// timeout: this test is about the cap alone.
	s := startServer(t, Config{MaxTCPConns: 2, MaxTCPConnsPerSource: 2, BusyTCPIdleTimeout: time.Minute}, src)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// a round trip proves the connection holds a slot
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(tcpFrame(t, query("api."+testZone, dns.TypeA))); err != nil {
			t.Fatal(err)
		}
		if _, err := readFrame(c); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write(tcpFrame(t, query("api."+testZone, dns.TypeA)))
	if _, err := readFrame(c); err == nil {
		t.Fatal("a third connection was served with a cap of 2")
	}
	// freeing a slot lets a new connection in
	held[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(time.Second))
		_, _ = c.Write(tcpFrame(t, query("api."+testZone, dns.TypeA)))
		_, err = readFrame(c)
		c.Close()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no slot came free after closing a connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartFailsOnBadConfig(t *testing.T) {
	src := newTestSource(t)
	for _, cfg := range []Config{
		{Addr: "127.0.0.1:0", XFRKeys: []string{"hmac-md5:k:c2VjcmV0"}},
		{Addr: "127.0.0.1:0", XFRKeys: []string{"hmac-sha256:k:not base64!"}},
		{Addr: "127.0.0.1:0", AllowTransfer: []string{"10.0.0.0/33"}},
		{Addr: "127.0.0.1:0", Notify: []string{"localhost"}},
		{Addr: "nonsense"},
	} {
		if err := New(cfg, src).Start(); err == nil {
			t.Errorf("%+v: started", cfg)
		}
	}
}

func TestServeOnIPv6Loopback(t *testing.T) {
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback on this machine")
	} else {
		l.Close()
	}
	src := newTestSource(t)
	s := startServer(t, Config{Addr: "[::1]:0"}, src)
	for _, netw := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
		m, _, err := c.Exchange(query("api."+testZone, dns.TypeA), s.Addr())
		if err != nil || len(m.Answer) != 1 {
			t.Fatalf("%s over ::1: %v %v", netw, m, err)
		}
	}
}
