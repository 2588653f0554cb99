package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A rogue Raft peer is an attacker who reaches a node's Raft port and
// speaks hashicorp/raft's wire protocol (NetworkTransport), from a chosen
// loopback source address, in plaintext or over TLS with a certificate
// that is not the cluster's.

// rogueStream is the attacker's raft.StreamLayer.
type rogueStream struct {
	net.Listener
	src *net.TCPAddr
	tls *tls.Config // nil: plaintext
}

func (s *rogueStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, LocalAddr: s.src}
	if s.tls == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), s.tls)
}

// rogue is one attacker: a raft NetworkTransport and who it pretends to be.
type rogue struct {
	t     *testing.T
	name  string
	src   string // source IP of its connections
	trans *raft.NetworkTransport
}

// newRogue listens on src:0 and dials from src, with tlsCfg when not nil.
func newRogue(t *testing.T, name, src string, tlsCfg *tls.Config) *rogue {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(src, "0"))
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	st := &rogueStream{Listener: ln, src: &net.TCPAddr{IP: net.ParseIP(src)}, tls: tlsCfg}
	tr := raft.NewNetworkTransport(st, 1, 5*time.Second*slow, io.Discard)
	t.Cleanup(func() { tr.Close() })
	return &rogue{t: t, name: name, src: src, trans: tr}
}

// header poses as member id.
func (r *rogue) header(id string) raft.RPCHeader {
	return raft.RPCHeader{
		ProtocolVersion: raft.ProtocolVersionMax,
		ID:              []byte(id),
		Addr:            r.trans.EncodePeer(raft.ServerID(id), r.trans.LocalAddr()),
	}
}

// probe asks n for its current term and last log index with an
// AppendEntries of term 0, which raft ignores (an older term) and answers.
func (r *rogue) probe(n *Node) (term, last uint64, err error) {
	var resp raft.AppendEntriesResponse
	err = r.trans.AppendEntries(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr),
		&raft.AppendEntriesRequest{RPCHeader: r.header("probe")}, &resp)
	return resp.Term, resp.LastLog, err
}

// forgedServicePut is a log entry as bgdns writes it (a tag byte, then the
// command's JSON) that puts svcName with one blue address, 203.0.113.66,
// and a TTL of 300.
func forgedServicePut() []byte {
	cmd := map[string]any{
		"op":         "service.put",
		"name":       strings.TrimSuffix(svcName, "."),
		"time":       time.Now().UTC(),
		"actor":      "rogue",
		"request_id": "rogue-1",
		"service": map[string]any{
			"ttl": 300, "active": "blue",
			"blue": map[string]any{"version": "6.6.6", "addresses": []string{forgedAddr}},
		},
	}
	b, _ := json.Marshal(cmd)
	return append([]byte{0x01}, b...)
}

const forgedAddr = "203.0.113.66"

// inject sends n, posing as leader id, an AppendEntries of n's current
// term (as probed) that appends the forged entry after n's last one and
// commits it.
func (r *rogue) inject(n *Node, leaderID string) (raft.AppendEntriesResponse, error) {
	term, last, err := r.probe(n)
	if err != nil {
		return raft.AppendEntriesResponse{}, err
	}
	return r.injectAt(n, leaderID, term, last)
}

// injectAt is inject for a node known to be at term with last as its
// last log index.
func (r *rogue) injectAt(n *Node, leaderID string, term, last uint64) (raft.AppendEntriesResponse, error) {
	var resp raft.AppendEntriesResponse
	req := &raft.AppendEntriesRequest{
		RPCHeader: r.header(leaderID),
		Term:      term,
		// PrevLogEntry 0: raft checks no previous entry.
		Entries: []*raft.Log{{
			Index: last + 1, Term: term, Type: raft.LogCommand,
			Data: forgedServicePut(), AppendedAt: time.Now(),
		}},
		LeaderCommitIndex: last + 1,
	}
	err := r.trans.AppendEntries(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr), req, &resp)
	return resp, err
}

// hugeTerm is the term of the forged vote request.
const hugeTerm = uint64(1) << 62

// vote asks n, posing as member id, for its vote in term 2^62 as if the
// leader had handed leadership over (which makes raft vote although it
// knows a leader).
func (r *rogue) vote(n *Node, id string) (raft.RequestVoteResponse, error) {
	var resp raft.RequestVoteResponse
	req := &raft.RequestVoteRequest{
		RPCHeader:          r.header(id),
		Term:               hugeTerm,
		LastLogIndex:       hugeTerm,
		LastLogTerm:        hugeTerm,
		LeadershipTransfer: true,
	}
	err := r.trans.RequestVote(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr), req, &resp)
	return resp, err
}

// emptySnapshot is a bgdns snapshot of a state without zones or services:
// installed, the node answers nothing.
func emptySnapshot(index uint64) []byte {
	b, _ := json.Marshal(map[string]any{
		"bgdns_snapshot": 1, "applied": index, "members": []any{},
		"state": map[string]any{"format": 1, "index": index, "zones": []any{}, "services": []any{}},
	})
	return b
}

// wipe installs the empty snapshot on n, posing as leader id, keeping the
// cluster's voters (members) as its configuration.
func (r *rogue) wipe(n *Node, leaderID string, members []*Node) (raft.InstallSnapshotResponse, error) {
	term, last, err := r.probe(n)
	if err != nil {
		return raft.InstallSnapshotResponse{}, err
	}
	return r.wipeAt(n, leaderID, members, term, last)
}

// wipeAt is wipe for a node known to be at term with last as its last
// log index.
func (r *rogue) wipeAt(n *Node, leaderID string, members []*Node, term, last uint64) (raft.InstallSnapshotResponse, error) {
	var resp raft.InstallSnapshotResponse
	var cfg raft.Configuration
	for _, m := range members {
		cfg.Servers = append(cfg.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr)})
	}
	data := emptySnapshot(last)
	req := &raft.InstallSnapshotRequest{
		RPCHeader: r.header(leaderID), SnapshotVersion: 1,
		Term: term, LastLogIndex: last, LastLogTerm: term,
		Configuration: raft.EncodeConfiguration(cfg), ConfigurationIndex: last,
		Size: int64(len(data)),
	}
	err := r.trans.InstallSnapshot(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr), req, &resp, bytes.NewReader(data))
	return resp, err
}

// attackAll sends each of the three forged RPCs to every node, built with
// the node's true term and last index (pos, as if the attacker had guessed
// them), and returns what each returned, in order.
func (r *rogue) attackAll(c *Cluster, leaderID string, pos map[string]logPos) []attackResult {
	var out []attackResult
	for _, n := range c.Nodes {
		var pose string // a member other than n
		for _, m := range c.Nodes {
			if m != n {
				pose = m.ID
				break
			}
		}
		p := pos[n.ID]
		_, _, err := r.probe(n)
		out = append(out, attackResult{"AppendEntries probe to " + n.ID, err})
		_, err = r.injectAt(n, leaderID, p.term, p.last)
		out = append(out, attackResult{"AppendEntries with the forged entry to " + n.ID, err})
		_, err = r.vote(n, pose)
		out = append(out, attackResult{"RequestVote at term 2^62 to " + n.ID, err})
		_, err = r.wipeAt(n, leaderID, c.Nodes, p.term, p.last)
		out = append(out, attackResult{"InstallSnapshot of an empty state to " + n.ID, err})
	}
	return out
}

// logPos is a node's current term and last log index.
type logPos struct{ term, last uint64 }

type attackResult struct {
	what string
	err  error
}

// putBlue creates svcName on blue through n (trying again while the
// cluster has no leader: a put is idempotent) and waits until every node
// answers it.
func putBlue(t *testing.T, c *Cluster, n *Node) {
	t.Helper()
	eventually(t, 60*time.Second, "the service put through "+n.ID+" commits", func() error {
		r := RunCLIEnv(t, n.CLIEnv(), n.URL(), "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
		if r.Code != 0 {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	c.EveryNode(20*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })
}

// commitWrite puts svcName with addr as its only blue address through n,
// trying again while the cluster has no leader (a put is idempotent; a
// loaded machine may hold an election), and waits until every node
// answers addr.
func commitWrite(t *testing.T, c *Cluster, n *Node, addr string) {
	t.Helper()
	eventually(t, 60*time.Second, "a write through "+n.ID+" commits", func() error {
		r := RunCLIEnv(t, n.CLIEnv(), n.URL(), "service", "put", svcName, "--ttl", "5", "--blue", addr, "--blue-version", "1.1")
		if r.Code != 0 {
			return fmt.Errorf("%s", r)
		}
		return nil
	})
	c.EveryNode(20*time.Second, addr+" on every node", func(m *Node) error {
		a, err := DigE(m.DNSAddr, svcName, "A")
		if err != nil {
			return err
		}
		return checkAddrs(a, "A", 5, addr)
	})
}

// The attack is real: against a cluster whose Raft is plaintext (on
// loopback, where bgdns allows it), a rogue peer changes answers, wipes
// a node's state and inflates the term to 2^62. The TLS test below sends
// the same RPCs and must change nothing.
func TestSecurityRogueRaftPeerPlaintext(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Hosts: []string{"127.0.0.91", "127.0.0.92", "127.0.0.93"}})
	leader := c.Leader()
	putBlue(t, c, leader)
	var fs []*Node
	for _, n := range c.Nodes {
		if n != leader {
			fs = append(fs, n)
		}
	}
	f1, f2 := fs[0], fs[1]
	r := newRogue(t, "plaintext", "127.0.0.66", nil)

	// AppendEntries: the forged entry is applied and served. The real
	// leader may append in between the probe and the injection; try again.
	eventually(t, 20*time.Second, "forged answer "+forgedAddr+" served by "+f1.ID, func() error {
		if _, err := r.inject(f1, leader.ID); err != nil {
			return err
		}
		a, err := DigE(f1.DNSAddr, svcName, "A")
		if err != nil {
			return err
		}
		return checkAddrs(a, "A", 300, forgedAddr)
	})
	t.Logf("%s answers %s with TTL 300 after a forged AppendEntries", f1.ID, forgedAddr)

	// InstallSnapshot: the other follower's state is replaced by an empty one.
	eventually(t, 20*time.Second, f2.ID+" wiped by a forged snapshot", func() error {
		resp, err := r.wipe(f2, leader.ID, c.Nodes)
		if err != nil {
			return err
		}
		if !resp.Success {
			return fmt.Errorf("InstallSnapshot not successful: %+v", resp)
		}
		a, err := DigE(f2.DNSAddr, svcName, "A")
		if err != nil {
			return err
		}
		if a.Status == "NOERROR" {
			return fmt.Errorf("still answers:\n%s", a.Raw)
		}
		return nil
	})
	t.Logf("%s no longer answers for %s after a forged InstallSnapshot", f2.ID, svcName)

	// RequestVote: the leader takes term 2^62 and grants its vote.
	resp, err := r.vote(leader, f1.ID)
	if err != nil {
		t.Fatalf("RequestVote to the plaintext leader: %v", err)
	}
	if resp.Term != hugeTerm || !resp.Granted {
		t.Fatalf("RequestVote with term 2^62 and leadership transfer: %+v, want the term taken and the vote granted", resp)
	}
	eventually(t, 20*time.Second, "every node at term 2^62 or more", func() error {
		for _, n := range c.Nodes {
			term, _, err := r.probe(n)
			if err != nil {
				return err
			}
			if term < hugeTerm {
				return fmt.Errorf("%s at term %d", n.ID, term)
			}
		}
		return nil
	})
	t.Logf("%s took term 2^62 from a forged RequestVote and voted for the rogue", leader.ID)
}

// rogueTLS is the TLS configuration of an attacker presenting cert (none
// when nil) and not checking who it talks to.
func rogueTLS(t *testing.T, certFile, keyFile string) *tls.Config {
	t.Helper()
	cfg := &tls.Config{InsecureSkipVerify: true, ServerName: "server.bgdns"}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// positions reads every node's current term and last index through ob
// (a peer with a member certificate, whose term-0 probes raft ignores).
func positions(t *testing.T, ob *rogue, c *Cluster) map[string]logPos {
	t.Helper()
	pos := map[string]logPos{}
	for _, n := range c.Nodes {
		term, last, err := ob.probe(n)
		if err != nil {
			t.Fatalf("probing the term of %s with a member certificate: %v", n.ID, err)
		}
		pos[n.ID] = logPos{term, last}
	}
	return pos
}

// termsOf is the term of every node, from positions.
func termsOf(t *testing.T, ob *rogue, c *Cluster) map[string]uint64 {
	t.Helper()
	terms := map[string]uint64{}
	for id, p := range positions(t, ob, c) {
		terms[id] = p.term
	}
	return terms
}

// With mutual TLS, the same forged RPCs, sent to every node by a
// plaintext peer, a peer with a certificate of another CA and a TLS peer
// without a certificate, are all refused at the handshake (and logged):
// no answer changes, no term moves, the leader stays, and the cluster
// still commits.
func TestSecurityRogueRaftPeerTLS(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Hosts: secureHosts, TLS: true})
	leader := c.Leader()
	putBlue(t, c, leader)

	obCert, obKey := c.CA.Issue("observer", t.TempDir())
	obTLS := &tls.Config{RootCAs: c.CA.Pool(), ServerName: "server.bgdns"}
	obTLS.Certificates = rogueTLS(t, obCert, obKey).Certificates
	observer := newRogue(t, "observer", "127.0.0.65", obTLS)
	marks := logMarks(c)
	pos := positions(t, observer, c)
	before := termsOf(t, observer, c)

	other := NewTestCA(t)
	otherCert, otherKey := other.Issue(leader.ID, t.TempDir(), "--ip", leader.Opts.Host)
	rogues := []*rogue{
		newRogue(t, "plaintext", "127.0.0.66", nil),
		newRogue(t, "certificate of another CA", "127.0.0.67", rogueTLS(t, otherCert, otherKey)),
		newRogue(t, "TLS without a certificate", "127.0.0.68", rogueTLS(t, "", "")),
	}
	for _, r := range rogues {
		for _, a := range r.attackAll(c, leader.ID, pos) {
			if a.err == nil {
				t.Errorf("%s: %s was answered; want it refused at the handshake", r.name, a.what)
			} else {
				t.Logf("%s: %s: %v", r.name, a.what, a.err)
			}
		}
	}

	for _, n := range c.Nodes {
		if err := checkColour(n, blueV4); err != nil {
			t.Errorf("%s after the attacks: %v", n.ID, err)
		}
	}
	stable := func(when string) {
		t.Helper()
		after := termsOf(t, observer, c)
		l := c.Leader()
		moved := l.ID != leader.ID
		for id, term := range after {
			if term >= hugeTerm {
				t.Errorf("%s: %s took the forged term: %d", when, id, term)
			}
			moved = moved || term != before[id]
		}
		if !moved {
			return
		}
		// On a loaded machine a node may miss heartbeats and start an
		// election of its own; raft logs why. The forged RPCs never do.
		if why := organicElection(c, marks); why != "" {
			t.Logf("%s: terms %v -> %v, leader %s -> %s, after an election the load caused: %s", when, before, after, leader.ID, l.ID, why)
			return
		}
		t.Errorf("%s: terms moved from %v to %v and leader from %s to %s, with no election of the cluster's own", when, before, after, leader.ID, l.ID)
	}
	stable("after the attacks")
	for _, n := range c.Nodes {
		eventually(t, 5*time.Second, n.ID+" logs every refused source", func() error {
			// Each rogue sent this node four RPCs within a few seconds:
			// one line, as refusals are logged once per source a minute.
			var wrong []string
			for _, r := range rogues {
				if k := refusals(n.Log(), r.src); k != 1 {
					wrong = append(wrong, fmt.Sprintf("%s: %d lines", r.src, k))
				}
			}
			if len(wrong) > 0 {
				return fmt.Errorf("want one refusal logged per source: %v", wrong)
			}
			return nil
		})
	}

	// The cluster still commits, through a follower, on every node.
	var f *Node
	for _, n := range c.Nodes {
		if n.ID != c.Leader().ID {
			f = n
			break
		}
	}
	commitWrite(t, c, f, "10.0.0.13")
	stable("after the write")
}

// logMarks is how long each node's log was at some point.
func logMarks(c *Cluster) map[string]int {
	m := map[string]int{}
	for _, n := range c.Nodes {
		m[n.ID] = len(n.Log())
	}
	return m
}

// organicElection returns the first log line, since marks, of a node
// starting an election because it stopped hearing from the leader or a
// leader losing its quorum ("" when none).
func organicElection(c *Cluster, marks map[string]int) string {
	for _, n := range c.Nodes {
		log := n.Log()
		if m := marks[n.ID]; m <= len(log) {
			log = log[m:]
		}
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "heartbeat timeout reached, starting election") ||
				strings.Contains(line, "failed to contact quorum of nodes") {
				return n.ID + ": " + line
			}
		}
	}
	return ""
}

// refusals counts the lines of a node's log refusing a Raft connection
// from src at the TLS handshake.
func refusals(log, src string) int {
	k := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "connection refused") && strings.Contains(line, "listener=raft") &&
			strings.Contains(line, "source="+src+" ") && strings.Contains(line, "TLS handshake failed") {
			k++
		}
	}
	return k
}
