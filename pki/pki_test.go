package pki

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newCA makes a CA and one node certificate in a temporary directory.
func newCA(t *testing.T, node string) (dir string, f Files) {
	t.Helper()
	dir = t.TempDir()
	if err := CreateCA(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	cert, key, err := CreateCert(CertRequest{CADir: dir, Name: node}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return dir, Files{Cert: cert, Key: key, CA: filepath.Join(dir, CAFile)}
}

func TestCreateAndLoad(t *testing.T) {
	dir, f := newCA(t, "n1")
	b, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(b.cert.Leaf.NotAfter) < CertValidity-time.Hour {
		t.Fatalf("certificate expires %v", b.cert.Leaf.NotAfter)
	}
	if st, err := os.Stat(f.Key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v, %v", st.Mode(), err)
	}
	if err := CreateCA(dir, time.Now()); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("second CA in the same dir: %v", err)
	}
	if _, _, err := CreateCert(CertRequest{CADir: dir, Name: "n1"}, time.Now()); err == nil {
		t.Fatal("a second n1 certificate overwrote the first")
	}
	if _, _, err := CreateCert(CertRequest{CADir: dir, Name: "../x"}, time.Now()); err == nil {
		t.Fatal("a path as node name was accepted")
	}
	if _, err := Load(Files{Cert: f.Cert, Key: f.Key}); err == nil {
		t.Fatal("loaded without a CA")
	}
	// A certificate of another CA does not load against this CA.
	_, other := newCA(t, "n2")
	if _, err := Load(Files{Cert: other.Cert, Key: other.Key, CA: f.CA}); err == nil {
		t.Fatal("certificate of another CA accepted")
	}
}

// handshake runs one TLS connection between server and client configs and
// returns the client's and server's handshake errors.
func handshake(t *testing.T, server, client *tls.Config) (cerr, serr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		err = c.(*tls.Conn).Handshake()
		if err == nil {
			_, _ = io.WriteString(c, "x")
		}
		done <- err
	}()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", ln.Addr().String(), client)
	if err == nil {
		_, err = c.Read(make([]byte, 1))
		c.Close()
	}
	return err, <-done
}

func TestPeerConfigsVerifyBothWays(t *testing.T) {
	dir, f := newCA(t, "n1")
	b, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	cert2, key2, err := CreateCert(CertRequest{CADir: dir, Name: "n2"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Load(Files{Cert: cert2, Key: key2, CA: f.CA})
	if err != nil {
		t.Fatal(err)
	}
	if cerr, serr := handshake(t, b.PeerServer(), b2.PeerClient()); cerr != nil || serr != nil {
		t.Fatalf("members: client %v, server %v", cerr, serr)
	}
	// No client certificate: refused by the member-only listener.
	noCert := b2.PeerClient()
	noCert.Certificates = nil
	if _, serr := handshake(t, b.PeerServer(), noCert); serr == nil {
		t.Fatal("peer without a certificate accepted")
	}
	// Another CA: refused both ways.
	_, of := newCA(t, "rogue")
	ob, err := Load(of)
	if err != nil {
		t.Fatal(err)
	}
	if _, serr := handshake(t, b.PeerServer(), ob.PeerClient()); serr == nil {
		t.Fatal("peer of another CA accepted by the listener")
	}
	if cerr, _ := handshake(t, ob.PeerServer(), b.PeerClient()); cerr == nil {
		t.Fatal("listener of another CA accepted by the dialler")
	}
	// Plaintext to a TLS listener fails.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", b.PeerServer())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(c, "plaintext\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	c.Close()
	if n > 0 && strings.Contains(string(buf[:n]), "plaintext") {
		t.Fatal("plaintext echoed")
	}
}
