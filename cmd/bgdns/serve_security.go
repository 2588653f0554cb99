package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
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
		ln = netlimit.NewHandshakeListener(ln, bundle.APIServer(), lim, apiHandshakeTimeout)
	}
	return ln, nil
}

// apiHandshakeTimeout bounds a client's TLS handshake on the API.
const apiHandshakeTimeout = 5 * time.Second

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
