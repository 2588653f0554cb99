package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestCA is a cluster CA made with the real `bgdns tls ca create` in a
// test's temporary directory; nodes started with it get a certificate of
// their own from `bgdns tls cert create`.
type TestCA struct {
	t   testing.TB
	Dir string
}

// NewTestCA creates a CA for this test.
func NewTestCA(t testing.TB) *TestCA {
	t.Helper()
	dir := t.TempDir()
	CLI(t, "", "tls", "ca", "create", "--dir", dir)
	return &TestCA{t: t, Dir: dir}
}

// CertFile is the CA certificate clients verify servers with.
func (ca *TestCA) CertFile() string { return filepath.Join(ca.Dir, "bgdns-ca.pem") }

// Pool is the CA certificate as a pool for Go clients.
func (ca *TestCA) Pool() *x509.CertPool {
	ca.t.Helper()
	b, err := os.ReadFile(ca.CertFile())
	if err != nil {
		ca.t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		ca.t.Fatalf("%s holds no certificate", ca.CertFile())
	}
	return p
}

// Issue creates the certificate of member name in dir (more flags of
// `bgdns tls cert create` in extra, e.g. "--ip", "127.0.0.71") and returns
// the certificate and key files.
func (ca *TestCA) Issue(name, dir string, extra ...string) (cert, key string) {
	ca.t.Helper()
	args := append([]string{"tls", "cert", "create", "--ca-dir", ca.Dir, "--dir", dir, "--name", name}, extra...)
	CLI(ca.t, "", args...)
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
}

// The harness's HTTP clients speak https to TLS nodes, each address
// verified with the CA of the test that started the node there.

var trust sync.Map // host:port -> *x509.CertPool

// trustAddr makes the harness's clients verify the HTTPS server at addr
// with pool.
func trustAddr(addr string, pool *x509.CertPool) { trust.Store(addr, pool) }

// harnessTransport is the transport of every harness HTTP client: plain
// HTTP as usual, and for https the pool registered for the address (the
// system roots when none is).
var harnessTransport = func() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if host, _, err := net.SplitHostPort(addr); err == nil {
			cfg.ServerName = strings.Trim(host, "[]")
		}
		if p, ok := trust.Load(addr); ok {
			cfg.RootCAs = p.(*x509.CertPool)
		}
		d := &tls.Dialer{Config: cfg}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}()

// probeClient is the client of readiness and status probes.
var probeClient = &http.Client{Transport: harnessTransport}

// jsonUnmarshal decodes s into v, saying what it could not read.
func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("decode %T: %v: %s", v, err, s)
	}
	return nil
}
