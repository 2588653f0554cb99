package cluster

import (
	"crypto/tls"
	"log/slog"
	"net"
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
	net.Listener // bounded, and with TLS a netlimit.HandshakeListener
	advertise    net.Addr
	client       *tls.Config // nil: plaintext
}

var _ raft.StreamLayer = (*streamLayer)(nil)

// newStreamLayer serves raft on ln. server and client are both nil
// (plaintext) or both set.
func newStreamLayer(ln net.Listener, advertise net.Addr, server, client *tls.Config, maxConns int, log *slog.Logger) *streamLayer {
	if maxConns <= 0 {
		maxConns = DefaultMaxRaftConns
	}
	lim := netlimit.New(maxConns, maxConns/2, "raft", log)
	bounded := net.Listener(netlimit.Wrap(ln, lim))
	if server != nil {
		bounded = netlimit.NewHandshakeListener(bounded, server, lim, handshakeTimeout)
	}
	return &streamLayer{Listener: bounded, advertise: advertise, client: client}
}

// Addr is the address advertised to peers.
func (s *streamLayer) Addr() net.Addr {
	if s.advertise != nil {
		return s.advertise
	}
	return s.Listener.Addr()
}

// Dial connects to a peer, with TLS verifying that it is a cluster member.
func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if s.client == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), s.client)
}
