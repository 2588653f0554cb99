package cluster

import (
	"io"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bgdns/bgdns/pki"
	"github.com/hashicorp/raft"
)

// testPKI makes a CA with certificates for the given names.
func testPKI(t *testing.T, names ...string) map[string]*pki.Bundle {
	t.Helper()
	dir := t.TempDir()
	if err := pki.CreateCA(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	out := map[string]*pki.Bundle{}
	for _, n := range names {
		cert, key, err := pki.CreateCert(pki.CertRequest{CADir: dir, Name: n}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, err := pki.Load(pki.Files{Cert: cert, Key: key, CA: filepath.Join(dir, pki.CAFile)})
		if err != nil {
			t.Fatal(err)
		}
		out[n] = b
	}
	return out
}

// openTCPNode starts a one-node cluster on a real TCP transport.
func openTCPNode(t *testing.T, b *pki.Bundle) *Node {
	t.Helper()
	store := raft.NewInmemStore()
	n, err := Open(Config{
		NodeID: "a1", DataDir: t.TempDir(), RaftAddr: "127.0.0.1:0", Bootstrap: true, TLS: b,
		Logger: testLogger(), LogStore: store, StableStore: store, MaxRaftConns: 8,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(t.Context()) })
	eventually(t, 10*time.Second, "leader", n.IsLeader)
	return n
}

func term(n *Node) uint64 {
	v, _ := strconv.ParseUint(n.raft.Stats()["term"], 10, 64)
	return v
}

// rogueVote sends a RequestVote with a huge term through tr, posing as
// the member a1 handing leadership over (what a forged vote needs to get
// past raft's own checks).
func rogueVote(tr raft.Transport, to raft.ServerAddress) error {
	var resp raft.RequestVoteResponse
	return tr.RequestVote("a1", to, &raft.RequestVoteRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("a1"), Addr: []byte(tr.LocalAddr())},
		Term:      1 << 62, LastLogIndex: 1 << 62, LastLogTerm: 1 << 62, LeadershipTransfer: true,
	}, &resp)
}

// TestRaftRefusesPeersWithoutMemberCertificate: a plaintext peer and a
// peer with a certificate of another CA cannot reach raft; the same
// plaintext attack against a node without TLS does move its term (the
// attack is real).
func TestRaftRefusesPeersWithoutMemberCertificate(t *testing.T) {
	certs := testPKI(t, "a1")
	rogueCA := testPKI(t, "rogue")
	n := openTCPNode(t, certs["a1"])
	before := term(n)

	plain, err := raft.NewTCPTransport("127.0.0.1:0", nil, 1, 2*time.Second, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := rogueVote(plain, raft.ServerAddress(n.RaftAddr())); err == nil {
		t.Fatal("plaintext RequestVote got an answer from a TLS node")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rb := rogueCA["rogue"]
	wrongCA := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: newStreamLayer(ln, nil, rb.PeerServer(), rb.PeerClient(), 4, testLogger()), MaxPool: 1, Timeout: 2 * time.Second,
	})
	defer wrongCA.Close()
	if err := rogueVote(wrongCA, raft.ServerAddress(n.RaftAddr())); err == nil {
		t.Fatal("RequestVote with another CA's certificate got an answer")
	}
	if got := term(n); got != before || !n.IsLeader() {
		t.Fatalf("term %d -> %d, leader %v", before, got, n.IsLeader())
	}

	// The same attack on a plaintext node works: the test can fail.
	open := openTCPNode(t, nil)
	if err := rogueVote(plain, raft.ServerAddress(open.RaftAddr())); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "term raised by the rogue vote", func() bool { return term(open) >= 1<<62 })
}

// TestRaftListenerBoundsConnections: idle connections beyond the bound are
// closed at once, and a member still gets through once they go away.
func TestRaftListenerBoundsConnections(t *testing.T) {
	certs := testPKI(t, "a1", "b1")
	n := openTCPNode(t, certs["a1"])
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	refused := 0
	for i := 0; i < 40; i++ {
		c, err := net.Dial("tcp", n.RaftAddr())
		if err != nil {
			refused++
			continue
		}
		conns = append(conns, c)
	}
	// Connections over the per-source bound (4 of 8) are closed by the
	// server: a read returns at once.
	closed := 0
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed+refused < 40-4 {
		t.Fatalf("%d of 40 idle connections closed or refused; want at least 36", closed+refused)
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	// A member connects once the slots are free again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := certs["b1"]
	member := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: newStreamLayer(ln, nil, b.PeerServer(), b.PeerClient(), 4, testLogger()), MaxPool: 1, Timeout: 2 * time.Second,
	})
	defer member.Close()
	eventually(t, 10*time.Second, "a member's RPC answered", func() bool {
		var resp raft.AppendEntriesResponse
		return member.AppendEntries("a1", raft.ServerAddress(n.RaftAddr()), &raft.AppendEntriesRequest{
			RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("b1"), Addr: []byte(member.LocalAddr())},
			Term:      0,
		}, &resp) == nil
	})
}
