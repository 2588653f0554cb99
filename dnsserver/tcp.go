package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"
)

// serveTCP accepts connections on l until it is closed. At most
// MaxTCPConns are served at once, and at most MaxTCPConnsPerSource from
// one client; connections beyond that are closed straight away (a busy
// server may do so, RFC 7766 §6.2.2).
func (s *Server) serveTCP(l net.Listener) {
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		src := tcpSource(addrPortOf(c.RemoteAddr()).Addr())
		if !s.tcpSourceSlot(src, true) {
			c.Close()
			continue
		}
		select {
		case s.tcpSlots <- struct{}{}:
		default:
			s.tcpSourceSlot(src, false)
			c.Close()
			continue
		}
		if !s.track(c, true) {
			<-s.tcpSlots
			s.tcpSourceSlot(src, false)
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.tcpSourceSlot(src, false)
			defer func() { <-s.tcpSlots }()
			defer s.track(c, false)
			defer c.Close()
			s.serveTCPConn(c)
		}()
	}
}

// tcpSource is the client a TCP connection counts against in the
// per-source limit: its IPv4 address, or the /64 of its IPv6 address.
func tcpSource(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, _ := a.Prefix(bits)
	return p
}

// tcpSourceSlot takes (or gives back) one of src's connection slots; it
// returns false when src already has MaxTCPConnsPerSource connections.
func (s *Server) tcpSourceSlot(src netip.Prefix, take bool) bool {
	s.tcpMu.Lock()
	defer s.tcpMu.Unlock()
	n := s.tcpPerSource[src]
	switch {
	case !take && n <= 1:
		delete(s.tcpPerSource, src)
	case !take:
		s.tcpPerSource[src] = n - 1
	case n >= s.cfg.MaxTCPConnsPerSource:
		return false
	default:
		s.tcpPerSource[src] = n + 1
	}
	return true
}

// tcpBusy reports whether more than half of the TCP connection slots are
// in use.
func (s *Server) tcpBusy() bool { return 2*len(s.tcpSlots) > cap(s.tcpSlots) }

// tcpWait is how long a connection may wait for its next query, and
// readTimeout how long the rest of a query may take once it has begun:
// both shortened to BusyTCPIdleTimeout while the server is busy (NSD's
// rule). Both are decided afresh for every query, so connections give
// their slots back soon after the server becomes busy.
func (s *Server) tcpWait() time.Duration {
	if s.tcpBusy() {
		return s.cfg.BusyTCPIdleTimeout
	}
	return s.cfg.TCPIdleTimeout
}

func (s *Server) readTimeout() time.Duration {
	if s.tcpBusy() {
		return min(s.cfg.ReadTimeout, s.cfg.BusyTCPIdleTimeout)
	}
	return s.cfg.ReadTimeout
}

// serveTCPConn answers the queries of one connection in order (RFC 7766):
// pipelined queries are read as they come, the connection is closed after
// tcpWait without a new query, after MaxTCPQueries queries, or on a
// malformed length.
func (s *Server) serveTCPConn(c net.Conn) {
	from := addrPortOf(c.RemoteAddr())
	r := bufio.NewReaderSize(c, 2048)
	var lenBuf [2]byte
	buf := make([]byte, 0, 512)
	for q := 0; q < s.cfg.MaxTCPQueries; q++ {
		_ = c.SetReadDeadline(time.Now().Add(s.tcpWait()))
		if _, err := io.ReadFull(r, lenBuf[:1]); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.readTimeout()))
		if _, err := io.ReadFull(r, lenBuf[1:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n < headerLen {
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		start := time.Now()
		reply, x := s.handle(buf, from, true)
		s.countTCP(buf, reply, start) // stats.go
		switch {
		case x != nil:
			if err := x.frames(func(b []byte) error { return s.writeTCP(c, b) }); err != nil {
				return
			}
		case reply != nil:
			if err := s.writeTCP(c, reply); err != nil {
				return
			}
		}
	}
}

// writeTCP writes one length-prefixed message within WriteTimeout.
func (s *Server) writeTCP(c net.Conn, msg []byte) error {
	if len(msg) > 0xffff {
		return errors.New("dns message too long for tcp")
	}
	_ = c.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	out := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(out, uint16(len(msg)))
	copy(out[2:], msg)
	_, err := c.Write(out)
	return err
}
