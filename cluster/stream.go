package cluster

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Defaults of the Raft listener's bounds.
const (
	DefaultMaxRaftConns = 64
	handshakeTimeout    = 5 * time.Second
	refusalLogInterval  = time.Minute
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
	log       *slog.Logger

	maxConns, maxPerSource int

	mu        sync.Mutex
	open      int
	perSource map[netip.Addr]int
	lastLog   map[netip.Addr]time.Time

	accepted chan net.Conn
	closed   chan struct{}
	once     sync.Once
}

var _ raft.StreamLayer = (*streamLayer)(nil)

// newStreamLayer listens on addr. server and client are both nil
// (plaintext) or both set.
func newStreamLayer(ln net.Listener, advertise net.Addr, server, client *tls.Config, maxConns int, log *slog.Logger) *streamLayer {
	if maxConns <= 0 {
		maxConns = DefaultMaxRaftConns
	}
	s := &streamLayer{
		ln: ln, advertise: advertise, server: server, client: client, log: log,
		maxConns: maxConns, maxPerSource: max(maxConns/2, 1),
		perSource: map[netip.Addr]int{}, lastLog: map[netip.Addr]time.Time{},
		accepted: make(chan net.Conn), closed: make(chan struct{}),
	}
	go s.acceptLoop()
	return s
}

func (s *streamLayer) acceptLoop() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			s.Close()
			return
		}
		src := sourceOf(c.RemoteAddr())
		if !s.admit(src) {
			c.Close()
			continue
		}
		go s.prepare(c, src)
	}
}

// admit counts a new connection from src, or refuses it when a bound is
// reached.
func (s *streamLayer) admit(src netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open >= s.maxConns || s.perSource[src] >= s.maxPerSource {
		s.refusedLocked(src, "connection limit reached", nil)
		return false
	}
	s.open++
	s.perSource[src]++
	return true
}

func (s *streamLayer) release(src netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.perSource[src]--; s.perSource[src] <= 0 {
		delete(s.perSource, src)
	}
}

// refusedLocked logs a refused connection, at most once per source per
// refusalLogInterval.
func (s *streamLayer) refusedLocked(src netip.Addr, why string, err error) {
	now := time.Now()
	if last, ok := s.lastLog[src]; ok && now.Sub(last) < refusalLogInterval {
		return
	}
	if len(s.lastLog) > 4096 {
		clear(s.lastLog)
	}
	s.lastLog[src] = now
	args := []any{"source", src.String(), "reason", why}
	if err != nil {
		args = append(args, "err", err)
	}
	s.log.Warn("raft connection refused", args...)
}

// prepare completes the TLS handshake (bounded in time) and hands the
// connection to Accept.
func (s *streamLayer) prepare(c net.Conn, src netip.Addr) {
	conn := net.Conn(&countedConn{Conn: c, release: func() { s.release(src) }})
	if s.server != nil {
		tc := tls.Server(conn, s.server)
		_ = tc.SetDeadline(time.Now().Add(handshakeTimeout))
		if err := tc.Handshake(); err != nil {
			s.mu.Lock()
			s.refusedLocked(src, "TLS handshake failed", err)
			s.mu.Unlock()
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

// countedConn releases its slot once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func sourceOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
