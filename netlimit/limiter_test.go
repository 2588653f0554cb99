package netlimit

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestLimiterBounds(t *testing.T) {
	l := New(3, 2, "test", nil)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	r1, ok1 := l.Admit(a)
	_, ok2 := l.Admit(a)
	_, ok3 := l.Admit(a)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("per-source bound: %v %v %v", ok1, ok2, ok3)
	}
	if _, ok := l.Admit(b); !ok {
		t.Fatal("another source refused under the total bound")
	}
	if _, ok := l.Admit(b); ok {
		t.Fatal("total bound not enforced")
	}
	r1()
	r1() // idempotent
	if l.Open() != 2 {
		t.Fatalf("open %d after one release, want 2", l.Open())
	}
	if _, ok := l.Admit(a); !ok {
		t.Fatal("slot not freed")
	}
}

func TestListenerClosesConnectionsPastTheBound(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Wrap(raw, New(100, 5, "test", nil))
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c // held open until the test ends
		}
	}()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	closed := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed != 15 {
		t.Fatalf("%d of 20 connections closed by the server, want 15 (5 per source)", closed)
	}
}

func TestHandshakeTimeoutShortensWhenBusy(t *testing.T) {
	l := New(4, 4, "test", nil)
	if d := l.HandshakeTimeout(5 * time.Second); d != 5*time.Second {
		t.Fatalf("idle: %v", d)
	}
	src := netip.MustParseAddr("192.0.2.1")
	for i := 0; i < 3; i++ {
		if _, ok := l.Admit(src); !ok {
			t.Fatal("refused under the bound")
		}
	}
	if d := l.HandshakeTimeout(5 * time.Second); d != BusyHandshakeTimeout {
		t.Fatalf("3 of 4 in use: %v, want %v", d, BusyHandshakeTimeout)
	}
}
