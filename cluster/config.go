package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
	"github.com/bgdns/bgdns/pki"
	"github.com/hashicorp/raft"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxStale          = 2 * time.Second
	DefaultSnapshotThreshold = 8192
	DefaultTrailingLogs      = 10240
	DefaultSnapshotInterval  = 30 * time.Second
	DefaultApplyTimeout      = 10 * time.Second
	// Raft timing. raft's defaults (1s heartbeat and election timeouts,
	// 50ms commit timeout) are tuned for WANs; a bgdns cluster sits on one
	// LAN and must elect a new leader well inside MaxStale. A follower only
	// learns that an entry is committed from the next AppendEntries, which
	// an idle leader sends every CommitTimeout: 5ms keeps the time from a
	// commit to every node answering the new colour within a few
	// milliseconds, for a few hundred small RPCs a second when idle.
	DefaultHeartbeatTimeout   = 500 * time.Millisecond
	DefaultElectionTimeout    = 500 * time.Millisecond
	DefaultLeaderLeaseTimeout = 250 * time.Millisecond
	DefaultCommitTimeout      = 5 * time.Millisecond
	snapshotsRetained         = 2
)

// Peers is what a node asks of other members' APIs; peer.Client
// implements it.
type Peers interface {
	Self(ctx context.Context, base string) (peer.NodeStatus, error)
	Join(ctx context.Context, base string, req peer.JoinRequest) error
	Checkpoint(ctx context.Context, base string, index uint64) (peer.Checkpoint, error)
	ReadIndex(ctx context.Context, base string) (uint64, error)
}

// Config describes one node.
type Config struct {
	NodeID  string
	DataDir string
	// RaftAddr is the host:port the Raft transport binds and advertises.
	RaftAddr string
	// HTTPAddr is this node's API base URL (http://host:port), advertised
	// to the other members for forwarding and WaitApplied.
	HTTPAddr string
	// DNSAddr is shown in status; its IP is the glue of NSName.
	DNSAddr string
	// NSName is this node's public nameserver name (canonical, or empty):
	// zones with NSAuto list it in their NS set.
	NSName string
	// APIToken, when set, is sent as a bearer token on requests to the
	// other members' APIs by the default Peers.
	APIToken string
	// Peers makes this node's calls to other members' APIs (their status,
	// divergence checkpoints, a join). Default: a peer.Client with the TLS
	// member certificate (when TLS is set) and APIToken.
	Peers Peers
	// TLS, when set, makes the Raft transport mutual TLS: peers must present
	// a certificate of the cluster CA for pki.ServerName, and this node
	// dials them the same way. Nil is plaintext (loopback or --insecure).
	TLS *pki.Bundle
	// MaxRaftConns bounds the Raft listener's connections (default
	// DefaultMaxRaftConns; half of it per source address).
	MaxRaftConns int
	// Bootstrap creates a new single-voter cluster when there is no
	// existing Raft state. It is ignored when there is.
	Bootstrap bool
	// MaxStale bounds how old the node's last confirmation that it is
	// current may be (default 2s); past it the node is stale and follows
	// StalePolicy.
	MaxStale time.Duration
	// StalePolicy is StaleServe (default) or StaleServfail.
	StalePolicy string

	// DivergenceCheck is how often the node compares the hash of its
	// applied log with the other voters' (default DefaultDivergenceCheck).
	DivergenceCheck time.Duration

	SnapshotThreshold uint64
	TrailingLogs      uint64
	SnapshotInterval  time.Duration
	// NoSnapshotOnShutdown leaves the log tail unsnapshotted at a clean
	// shutdown, as a crash would (tests of the replay path use it).
	NoSnapshotOnShutdown bool

	Logger *slog.Logger
	// OnChange is called from the FSM goroutine after each applied command
	// that produced a new State. It must not block.
	OnChange func(*control.State)
	// OnSwitch is called from the FSM goroutine after each applied switch
	// or rollback, with the service and the time the leader appended the
	// entry to its log (zero when the entry does not carry it). It must
	// not block.
	OnSwitch func(service string, appendedAt time.Time)

	// Transport, LogStore, StableStore and SnapshotStore replace the real
	// ones (TCP, bbolt, files) when set; tests use raft's in-memory ones.
	// With LogStore set, StableStore must be set too.
	Transport     raft.Transport
	LogStore      raft.LogStore
	StableStore   raft.StableStore
	SnapshotStore raft.SnapshotStore

	// Raft timing; zero takes the Default* values above.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
}

func (c *Config) setDefaults() error {
	if c.NodeID == "" {
		return errors.New("cluster: node id is required")
	}
	if c.Transport == nil {
		if c.RaftAddr == "" {
			return errors.New("cluster: raft address is required")
		}
		if _, _, err := net.SplitHostPort(c.RaftAddr); err != nil {
			return fmt.Errorf("cluster: raft address %q: %w", c.RaftAddr, err)
		}
	}
	if c.DataDir == "" && (c.Transport == nil || c.LogStore == nil || c.SnapshotStore == nil) {
		return errors.New("cluster: data dir is required")
	}
	if (c.LogStore == nil) != (c.StableStore == nil) {
		return errors.New("cluster: log and stable stores must be given together")
	}
	if c.NSName != "" {
		ns, err := control.CanonicalName(c.NSName)
		if err != nil {
			return fmt.Errorf("cluster: ns name %q: %w", c.NSName, err)
		}
		c.NSName = ns
	}
	if c.MaxStale <= 0 {
		c.MaxStale = DefaultMaxStale
	}
	switch c.StalePolicy {
	case "":
		c.StalePolicy = StaleServe
	case StaleServe, StaleServfail:
	default:
		return fmt.Errorf("cluster: stale policy %q: want %s or %s", c.StalePolicy, StaleServe, StaleServfail)
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = DefaultTrailingLogs
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = DefaultSnapshotInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Peers == nil {
		var tc *tls.Config
		if c.TLS != nil {
			tc = c.TLS.PeerClient()
		}
		c.Peers = peer.New(tc, c.APIToken)
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.HeartbeatTimeout, DefaultHeartbeatTimeout)
	def(&c.ElectionTimeout, DefaultElectionTimeout)
	def(&c.LeaderLeaseTimeout, DefaultLeaderLeaseTimeout)
	def(&c.CommitTimeout, DefaultCommitTimeout)
	def(&c.DivergenceCheck, DefaultDivergenceCheck)
	return nil
}

// raftConfig builds raft's configuration from ours.
func (c *Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.TrailingLogs = c.TrailingLogs
	rc.SnapshotInterval = c.SnapshotInterval
	rc.Logger = newHCLogger(c.Logger, "raft")
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	// Pre-vote stays off (cluster/DESIGN.md, "Pre-vote"): said here, so
	// that raft does not warn at every start that the transport lacks it.
	rc.PreVoteDisabled = true
	// raft refuses a lease longer than the heartbeat timeout and an
	// election timeout shorter than it.
	rc.LeaderLeaseTimeout = min(rc.LeaderLeaseTimeout, rc.HeartbeatTimeout)
	rc.ElectionTimeout = max(rc.ElectionTimeout, rc.HeartbeatTimeout)
	return rc
}
