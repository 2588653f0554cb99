package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
)

// ServerName is the DNS name every cluster member's certificate carries and
// every member verifies on its peers.
const ServerName = "server.bgdns"

// MinVersion is the oldest TLS version bgdns speaks on any connection.
const MinVersion = tls.VersionTLS12

// Files names a node's PEM files.
type Files struct {
	Cert, Key, CA string
}

// Empty reports whether no file is named.
func (f Files) Empty() bool { return f.Cert == "" && f.Key == "" && f.CA == "" }

// Bundle is a node's loaded certificate, key and cluster CA.
type Bundle struct {
	cert tls.Certificate
	pool *x509.CertPool
}

// Load reads and checks the three files: all must be given, the key must
// match the certificate, the certificate must be signed by the CA and carry
// ServerName.
func Load(f Files) (*Bundle, error) {
	if f.Cert == "" || f.Key == "" || f.CA == "" {
		return nil, errors.New("tls: --tls-cert, --tls-key and --tls-ca must be given together")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: load %s and %s: %w", f.Cert, f.Key, err)
	}
	pool, err := LoadPool(f.CA)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("tls: parse %s: %w", f.Cert, err)
	}
	cert.Leaf = leaf
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: pool, DNSName: ServerName,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return nil, fmt.Errorf("tls: %s is not a cluster member certificate of %s (signed by that CA, for %s, server and client auth): %w",
			f.Cert, f.CA, ServerName, err)
	}
	return &Bundle{cert: cert, pool: pool}, nil
}

// LoadPool reads a PEM file of CA certificates.
func LoadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: read CA %s: %w", path, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls: %s holds no PEM certificate", path)
	}
	return pool, nil
}

// Pool is the cluster CA.
func (b *Bundle) Pool() *x509.CertPool { return b.pool }

// server is the listener side every server config starts from: this
// node's certificate, client certificates checked against the cluster CA
// as auth asks.
func (b *Bundle) server(auth tls.ClientAuthType) *tls.Config {
	return &tls.Config{
		MinVersion:   MinVersion,
		Certificates: []tls.Certificate{b.cert},
		ClientAuth:   auth,
		ClientCAs:    b.pool,
	}
}

// PeerServer is the listener side of a member-only connection (Raft): the
// client must present a certificate of the cluster CA for ServerName.
func (b *Bundle) PeerServer() *tls.Config {
	c := b.server(tls.RequireAndVerifyClientCert)
	c.VerifyConnection = requireMember
	return c
}

// APIServer is the HTTPS listener side: clients verify the node; a client
// certificate is optional (cluster members present theirs, and the API
// treats a verified member certificate as a node identity, see IsMember).
func (b *Bundle) APIServer() *tls.Config {
	return b.server(tls.VerifyClientCertIfGiven)
}

// PeerClient is the dialling side of a node-to-node connection (Raft and
// API calls): it presents this node's certificate and verifies that the
// other end is a member, whatever address it dialled.
func (b *Bundle) PeerClient() *tls.Config {
	return &tls.Config{
		MinVersion:   MinVersion,
		Certificates: []tls.Certificate{b.cert},
		RootCAs:      b.pool,
		ServerName:   ServerName,
	}
}

// requireMember checks, after chain verification, that the peer's
// certificate names ServerName.
func requireMember(cs tls.ConnectionState) error {
	if !IsMember(cs) {
		return fmt.Errorf("tls: peer certificate is not for %s", ServerName)
	}
	return nil
}

// IsMember reports whether a connection's peer presented a verified
// certificate for ServerName (a cluster member).
func IsMember(cs tls.ConnectionState) bool {
	if len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return false
	}
	return slices.Contains(cs.PeerCertificates[0].DNSNames, ServerName)
}
