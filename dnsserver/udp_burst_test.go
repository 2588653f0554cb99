package dnsserver

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestUDPBurstsMatchHandler sends bursts of queries from several sockets
// at once, so that reads and writes come in batches, and checks every
// reply byte for byte against the full handler.
func TestUDPBurstsMatchHandler(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			if addr[0] == '[' {
				if c, err := net.ListenPacket("udp", addr); err != nil {
					t.Skip("no IPv6 loopback")
				} else {
					c.Close()
				}
			}
			src := fastZone(t)
			s := startServer(t, Config{Addr: addr}, src)
			names := fastNames(src.State())
			const clients, perClient = 4, 300
			errs := make(chan error, clients)
			for c := range clients {
				go func() { errs <- burst(s, names, c, perClient) }()
			}
			for range clients {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// burst sends perClient queries in windows of 32 without waiting for
// replies (more would overflow the client's own receive buffer), reads the
// replies and compares each with what the handler answers to the same
// packet.
func burst(s *Server, names []string, c, perClient int) error {
	conn, err := net.Dial("udp", s.Addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 65535)
	for start := 0; start < perClient; start += 32 {
		sent := map[uint16][]byte{}
		for i := start; i < min(start+32, perClient); i++ {
			m := query(names[(c*7+i)%len(names)], fastTypes[i%len(fastTypes)])
			m.Id = uint16(i + 1)
			if i%3 == 0 {
				m.SetEdns0(1232, false)
			}
			raw, err := m.Pack()
			if err != nil {
				return err
			}
			sent[m.Id] = raw
			if _, err := conn.Write(raw); err != nil {
				return err
			}
		}
		for len(sent) > 0 {
			if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				return err
			}
			n, err := conn.Read(buf)
			if err != nil {
				return fmt.Errorf("client %d: %d replies missing: %w", c, len(sent), err)
			}
			reply := buf[:n]
			id := uint16(reply[0])<<8 | uint16(reply[1])
			raw, ok := sent[id]
			if !ok {
				return fmt.Errorf("client %d: unexpected reply id %d", c, id)
			}
			delete(sent, id)
			want, _ := s.handle(raw, testClient, false)
			if !bytes.Equal(reply, want) {
				q := new(dns.Msg)
				_ = q.Unpack(raw)
				return fmt.Errorf("client %d: reply to %v differs from the handler's", c, q.Question)
			}
		}
	}
	return nil
}
