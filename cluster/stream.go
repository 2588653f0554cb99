package cluster

import (
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/bgdns/bgdns/netlimit"
	"github.com/hashicorp/raft"
)

// Defaults of the Raft listener's bounds.
const (
	DefaultMaxRaftConns = 64
	handshakeTimeout    = 5 * time.Second
)

// streamLayer is the Raft transport's network: a TCP listener that bounds
// its connections (in all and per source address) and, with TLS, accepts
// only peers presenting a cluster member certificate (mutual TLS, verified
// before raft reads a byte), and dials peers the same way. Without TLS it
// is plain TCP with the same bounds. There is never a fallback from one to
// the other: a listener is one or the other for its whole life.
type streamLayer struct {
	ln        net.Listener
	advertise net.Addr
	server    *tls.Config // nil: plaintext
	client    *tls.Config
	lim       *netlimit.Limiter

	accepted chan net.Conn
	closed   chan struct{}
	once     sync.Once
}

var _ raft.StreamLayer = (*streamLayer)(nil)

// newStreamLayer serves raft on ln. server and client are both nil
// (plaintext) or both set.
func newStreamLayer(ln net.Listener, advertise net.Addr, server, client *tls.Config, maxConns int, log *slog.Logger) *streamLayer {
	if maxConns <= 0 {
		maxConns = DefaultMaxRaftConns
	}
	s := &streamLayer{
		ln: ln, advertise: advertise, server: server, client: client,
		lim:      netlimit.New(maxConns, maxConns/2, "raft", log),
		accepted: make(chan net.Conn), closed: make(chan struct{}),
	}
	go s.acceptLoop()
	return s
}

func (s *streamLayer) acceptLoop() {
	ln := netlimit.Wrap(s.ln, s.lim)
	for {
		c, err := ln.Accept()
		if err != nil {
			s.Close()
			return
		}
		go s.prepare(c)
	}
}

// prepare completes the TLS handshake (bounded in time) and hands the
// connection to Accept.
func (s *streamLayer) prepare(conn net.Conn) {
	if s.server != nil {
		tc := tls.Server(conn, s.server)
		_ = tc.SetDeadline(time.Now().Add(s.lim.HandshakeTimeout(handshakeTimeout)))
		if err := tc.Handshake(); err != nil {
			s.lim.Refused(netlimit.Source(conn.RemoteAddr()), "TLS handshake failed", err)
			tc.Close()
			return
		}
		_ = tc.SetDeadline(time.Time{})
		conn = tc
	}
	select {
	case s.accepted <- conn:
	case <-s.closed:
		conn.Close()
	}
}

// Accept returns the next admitted (and, with TLS, authenticated) peer.
func (s *streamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.accepted:
		return c, nil
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

// Close stops listening.
func (s *streamLayer) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closed)
		err = s.ln.Close()
	})
	return err
}

// Addr is the address advertised to peers.
func (s *streamLayer) Addr() net.Addr {
	if s.advertise != nil {
		return s.advertise
	}
	return s.ln.Addr()
}

// Dial connects to a peer, with TLS verifying that it is a cluster member.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if s.client == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), s.client)
}
