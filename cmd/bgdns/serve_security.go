package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/cluster"
	"github.com/bgdns/bgdns/netlimit"
	"github.com/bgdns/bgdns/peer"
	"github.com/bgdns/bgdns/pki"
)

// Defaults of the listeners' bounds.
const defaultMaxHTTPConns = 1024

// securityConfig is how a node protects its listeners.
type securityConfig struct {
	TLS          pki.Files
	Insecure     bool
	MaxRaftConns int
	MaxHTTPConns int
}

func addSecurityFlags(f *pflag.FlagSet, c *securityConfig) {
	f.StringVar(&c.TLS.Cert, "tls-cert", "", "PEM certificate of this node (from bgdns tls cert create); with --tls-key and --tls-ca turns on mutual TLS for Raft and HTTPS for the API")
	f.StringVar(&c.TLS.Key, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&c.TLS.CA, "tls-ca", "", "PEM certificate of the cluster CA")
	f.BoolVar(&c.Insecure, "insecure", false, "allow plaintext Raft and HTTP on non-loopback addresses (anyone who reaches them can change every answer)")
	f.IntVar(&c.MaxRaftConns, "max-raft-conns", cluster.DefaultMaxRaftConns, "Raft connections this node accepts (half of them per source address)")
	f.IntVar(&c.MaxHTTPConns, "max-http-conns", defaultMaxHTTPConns, "API connections this node accepts (a quarter of them per source address)")
}

// loadTLS returns the node's certificates, or nil without TLS. It refuses
// a plaintext node whose API or Raft listener is not on loopback unless
// --insecure is given, and warns at every start when it is.
func (c securityConfig) loadTLS(log *slog.Logger, listeners map[string]string) (*pki.Bundle, error) {
	if !c.TLS.Empty() {
		return pki.Load(c.TLS)
	}
	var open []string
	for flag, addr := range listeners {
		if addr != "" && !isLoopback(addr) {
			open = append(open, fmt.Sprintf("--%s %s", flag, addr))
		}
	}
	if len(open) == 0 {
		return nil, nil
	}
	if !c.Insecure {
		return nil, fmt.Errorf("refusing to listen on %s without TLS: give --tls-cert, --tls-key and --tls-ca "+
			"(bgdns tls ca create; bgdns tls cert create), or --insecure to accept that anyone who reaches these ports can change every answer",
			strings.Join(open, ", "))
	}
	log.Warn("INSECURE: plaintext Raft and API on non-loopback addresses; anyone who reaches them can change every answer",
		"listeners", strings.Join(open, ", "))
	return nil, nil
}

// isLoopback reports whether a listen address binds loopback only. An
// empty host (all interfaces) or a name other than localhost is not.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}

var errTLSAndScheme = errors.New("--http-advertise must be an https:// URL when TLS is on")

// listenAPI opens the API listener: bounded (max connections, a quarter
// of them per source) and, with TLS, HTTPS only.
func listenAPI(addr string, maxConns int, bundle *pki.Bundle, log *slog.Logger) (net.Listener, error) {
	if maxConns <= 0 {
		maxConns = defaultMaxHTTPConns
	}
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	lim := netlimit.New(maxConns, max(maxConns/4, 1), "api", log.With("component", "api"))
	ln := net.Listener(netlimit.Wrap(raw, lim))
	if bundle != nil {
		ln = newHandshakeListener(ln, bundle.APIServer(), lim)
	}
	return ln, nil
}

// apiHandshakeTimeout bounds a client's TLS handshake on the API.
const apiHandshakeTimeout = 5 * time.Second

// handshakeListener completes each connection's TLS handshake (bounded in
// time) before Accept returns it, so that a failed handshake is logged
// like the Raft listener's (once per source a minute) rather than by
// net/http once per connection. Accept returns *tls.Conn with the
// handshake done: http.Server still sees TLS (r.TLS, client certificates).
type handshakeListener struct {
	net.Listener
	cfg      *tls.Config
	lim      *netlimit.Limiter
	accepted chan net.Conn
	closed   chan struct{}
	once     sync.Once
	errMu    sync.Mutex
	err      error
}

func newHandshakeListener(ln net.Listener, cfg *tls.Config, lim *netlimit.Limiter) *handshakeListener {
	h := &handshakeListener{Listener: ln, cfg: cfg, lim: lim, accepted: make(chan net.Conn), closed: make(chan struct{})}
	go h.acceptLoop()
	return h
}

func (h *handshakeListener) acceptLoop() {
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			h.errMu.Lock()
			h.err = err
			h.errMu.Unlock()
			h.Close()
			return
		}
		go h.handshake(c)
	}
}

func (h *handshakeListener) handshake(c net.Conn) {
	tc := tls.Server(c, h.cfg)
	_ = tc.SetDeadline(time.Now().Add(h.lim.HandshakeTimeout(apiHandshakeTimeout)))
	if err := tc.Handshake(); err != nil {
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		h.lim.Refused(netlimit.Source(c.RemoteAddr()), "TLS handshake failed", err)
		tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	select {
	case h.accepted <- tc:
	case <-h.closed:
		tc.Close()
	}
}

// looksLikeHTTP reports whether a record header is the start of a
// plaintext HTTP request.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		return true
	}
	return false
}

// Accept returns the next connection whose handshake succeeded.
func (h *handshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-h.accepted:
		return c, nil
	case <-h.closed:
		h.errMu.Lock()
		defer h.errMu.Unlock()
		if h.err != nil {
			return nil, h.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops listening; connections still in their handshake are closed.
func (h *handshakeListener) Close() error {
	var err error
	h.once.Do(func() {
		close(h.closed)
		err = h.Listener.Close()
	})
	return err
}

// forwardClient sends writes on to the leader over the node-to-node
// client (its TLS member certificate), bounded in time, never following
// a redirect.
func forwardClient(p *peer.Client) *http.Client {
	return &http.Client{
		Transport: p.HTTP().Transport,
		Timeout:   api.DefaultMaxWaitTimeout + 5*time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// hasHost reports whether a listen address names one host (not every
// interface: an empty host, 0.0.0.0 or ::), so that it can be advertised.
func hasHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil || host == "" {
		return false
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err != nil || !ip.IsUnspecified()
}
