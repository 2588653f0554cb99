package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"time"
)

// serveTCP accepts connections on l until it is closed. At most
// MaxTCPConns are served at once; connections beyond that are closed
// straight away (RFC 7766 §6.2.2 lets a busy server do so).
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
		select {
		case s.tcpSlots <- struct{}{}:
		default:
			c.Close()
			continue
		}
		if !s.track(c, true) {
			<-s.tcpSlots
			c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.tcpSlots }()
			defer s.track(c, false)
			defer c.Close()
			s.serveTCPConn(c)
		}()
	}
}

// serveTCPConn answers the queries of one connection in order (RFC 7766):
// pipelined queries are read as they come, the connection is closed after
// TCPIdleTimeout without a new query, after MaxTCPQueries queries, or on a
// malformed length.
func (s *Server) serveTCPConn(c net.Conn) {
	from := addrPortOf(c.RemoteAddr())
	r := bufio.NewReaderSize(c, 2048)
	var lenBuf [2]byte
	buf := make([]byte, 0, 512)
	for q := 0; q < s.cfg.MaxTCPQueries; q++ {
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.TCPIdleTimeout))
		if _, err := io.ReadFull(r, lenBuf[:1]); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
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
		reply, x := s.handle(buf, from, true)
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
