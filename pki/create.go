package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// File names written by CreateCA and CreateCert.
const (
	CAFile    = "bgdns-ca.pem"
	CAKeyFile = "bgdns-ca-key.pem"
)

// Validity of what CreateCA and CreateCert issue (like consul tls: five
// years for the CA, one for a node).
const (
	CAValidity   = 5 * 365 * 24 * time.Hour
	CertValidity = 365 * 24 * time.Hour
)

// CertFiles names the files CreateCert writes for a node name.
func CertFiles(dir, name string) (cert, key string) {
	return filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
}

// CreateCA writes a new CA certificate and key into dir. It refuses to
// overwrite an existing CA.
func CreateCA(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("tls: %s exists; refusing to overwrite a CA", p)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "bgdns CA", Organization: []string{"bgdns"}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("tls: create CA: %w", err)
	}
	return writePair(certPath, keyPath, der, key)
}

// CertRequest describes a node certificate.
type CertRequest struct {
	CADir  string   // holds CAFile and CAKeyFile
	OutDir string   // where NAME.pem and NAME-key.pem go (default CADir)
	Name   string   // node name: the file names and the common name
	IPs    []net.IP // IP SANs (127.0.0.1 and ::1 are always added)
	DNS    []string // more DNS SANs (server.bgdns, NAME.server.bgdns and localhost are always there)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// CreateCert issues a cluster member certificate signed by the CA in
// req.CADir, valid for server and client authentication.
func CreateCert(req CertRequest, now time.Time) (certPath, keyPath string, err error) {
	if !nameRE.MatchString(req.Name) {
		return "", "", fmt.Errorf("tls: node name %q: use letters, digits, '.', '_' or '-'", req.Name)
	}
	if req.OutDir == "" {
		req.OutDir = req.CADir
	}
	caCert, caKey, err := loadCA(req.CADir)
	if err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	dnsNames := append([]string{ServerName, req.Name + "." + ServerName, "localhost"}, req.DNS...)
	ips := append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, req.IPs...)
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: req.Name + "." + ServerName, Organization: []string{"bgdns"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(CertValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", "", fmt.Errorf("tls: create certificate: %w", err)
	}
	if err := os.MkdirAll(req.OutDir, 0o700); err != nil {
		return "", "", fmt.Errorf("tls: %w", err)
	}
	certPath, keyPath = CertFiles(req.OutDir, req.Name)
	return certPath, keyPath, writePair(certPath, keyPath, der, key)
}

func loadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: read CA: %w (create one with: bgdns tls ca create --dir %s)", err, dir)
	}
	kb, err := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, nil, fmt.Errorf("tls: read CA key: %w", err)
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, nil, errors.New("tls: CA files are not PEM")
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: parse CA: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kp.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: parse CA key: %w", err)
	}
	return cert, key, nil
}

func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return err
	}
	return writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeFile creates path exclusively (never overwrites) with mode.
func writeFile(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("tls: write %s: %w", path, err)
	}
	return f.Close()
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}
