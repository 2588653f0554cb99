package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDNSTCPSlowClientsDoNotLockOthersOut runs 600 TCP clients that each
// keep a connection to the node and send a query on it every 4 s (opening
// a new one when the server closed theirs), many more than the node's
// --max-tcp-conns 256, with an idle timeout far longer than 4 s. Once they
// have filled every slot, a fresh client must still get its answer over
// TCP within a few attempts: above half the slots the node shortens the
// idle timeout (NSD's rule), so the slow clients give their slots back.
func TestDNSTCPSlowClientsDoNotLockOthersOut(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "t1", Bootstrap: true,
		Args: []string{"--max-tcp-conns", "256", "--tcp-idle-timeout", "60s"}})

	const clients, period = 600, 4 * time.Second
	var started, refused, answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for i := range clients {
		// Spread over 200 loopback sources, 3 each, so the per-source cap
		// (a quarter of the slots) is not what lets the fresh client in.
		src := fmt.Sprintf("127.0.%d.%d", 2+i/200, 1+i%200)
		wg.Go(func() {
			slowTCPClient(n.DNSAddr, src, period, stop, &started, &refused, &answered)
		})
	}
	// Every slow client has asked once: more than enough to take every
	// slot, had the node let them keep their connections.
	eventually(t, 60*time.Second*slow, "every slow client asks once", func() error {
		if n := started.Load(); n < clients {
			return fmt.Errorf("%d of %d started", n, clients)
		}
		return nil
	})

	const attempts = 20
	var err error
	for i := range attempts {
		if err = tcpQuery(n.DNSAddr, "127.0.0.1", testZone); err == nil {
			t.Logf("fresh client answered at attempt %d (%d slow answers, %d refusals)", i+1, answered.Load(), refused.Load())
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("a fresh TCP client got no answer in %d attempts while 600 slow clients held connections: %v", attempts, err)
}

// slowTCPClient keeps one connection to addr from the loopback address
// src and sends an SOA query on it every period (starting at a random
// point in the first period), opening a new connection straight away
// whenever the server closed its own, until stop is closed. A connection
// closed before its first answer counts as refused; started counts the
// clients past their first question.
func slowTCPClient(addr, src string, period time.Duration, stop chan struct{}, started, refused, answered *atomic.Int64) {
	select {
	case <-stop:
		return
	case <-time.After(rand.N(period)):
	}
	var c net.Conn
	fresh := false
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for first := true; ; first = false {
		if c == nil {
			d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
			var err error
			if c, err = d.Dial("tcp", addr); err != nil {
				c = nil
			}
			fresh = true
		}
		if c != nil {
			if err := askSOA(c, testZone); err != nil {
				c.Close()
				c = nil
				if !fresh {
					continue // closed while idle: straight back in
				}
				refused.Add(1)
			} else {
				answered.Add(1)
				fresh = false
			}
		}
		if first {
			started.Add(1)
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// tcpQuery opens a connection to addr from src and asks zone's SOA.
func tcpQuery(addr, src, zone string) error {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return askSOA(c, zone)
}

// askSOA sends an SOA query for zone on c and reads one authoritative
// NOERROR answer.
func askSOA(c net.Conn, zone string) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second * slow))
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	b, err := m.Pack()
	if err != nil {
		return err
	}
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)); err != nil {
		return err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return err
	}
	rb := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(c, rb); err != nil {
		return err
	}
	r := new(dns.Msg)
	if err := r.Unpack(rb); err != nil {
		return err
	}
	if r.Id != m.Id || r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		return fmt.Errorf("reply %v", r)
	}
	return nil
}
