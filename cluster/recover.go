package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// Voter is one member of the configuration a recovery writes.
type Voter struct {
	ID       string
	RaftAddr string
}

// ParseVoters reads "n1=10.0.0.1:7053,n2=10.0.0.2:7053".
func ParseVoters(s string) ([]Voter, error) {
	var out []Voter
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, addr, ok := strings.Cut(part, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("voter %q is not id=host:port", part)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("voter %s: address %q: %w", id, addr, err)
		}
		if seen[id] {
			return nil, fmt.Errorf("voter %s given twice", id)
		}
		seen[id] = true
		out = append(out, Voter{ID: id, RaftAddr: addr})
	}
	if len(out) == 0 {
		return nil, errors.New("no voters given")
	}
	return out, nil
}

// Recover rewrites the Raft configuration of the stopped node whose data
// is in dataDir so that voters are the whole cluster (raft.RecoverCluster,
// the equivalent of Consul's peers.json). It replays the node's log into a
// snapshot that carries the new configuration, so every entry this node
// holds is kept, committed or not. Run it on every survivor with the same
// voters, then start them: they elect a leader among themselves, and new
// nodes join as usual.
//
// It fails, changing nothing, when the node is running (the bolt file is
// locked) or the directory holds no cluster state.
func Recover(dataDir string, voters []Voter, log *slog.Logger) (uint64, error) {
	if len(voters) == 0 {
		return 0, errors.New("recover: no voters given")
	}
	path := filepath.Join(dataDir, boltFile)
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("recover: %s: %w", path, err)
	}
	if err := checkBoltFile(path); err != nil {
		return 0, fmt.Errorf("recover: %w (stop the node first)", err)
	}
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{Timeout: boltLockTimeout}})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return 0, fmt.Errorf("recover: %s is locked: stop the node first", path)
		}
		return 0, fmt.Errorf("recover: open %s: %w", path, err)
	}
	defer bolt.Close()
	hl := newHCLogger(log, "raft")
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dataDir, snapshotsRetained, hl.Named("snapshots"))
	if err != nil {
		return 0, fmt.Errorf("recover: snapshot store: %w", err)
	}
	conf := raft.DefaultConfig()
	conf.LocalID = raft.ServerID(voters[0].ID)
	conf.Logger = hl
	var servers []raft.Server
	for _, v := range voters {
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(v.ID), Address: raft.ServerAddress(v.RaftAddr)})
	}
	_, trans := raft.NewInmemTransport("")
	f := newFSM(nil, log)
	f.source = path
	if err := raft.RecoverCluster(conf, f, bolt, bolt, snaps, trans, raft.Configuration{Servers: servers}); err != nil {
		return 0, fmt.Errorf("recover: %w", err)
	}
	if why := f.broken.Load(); why != nil {
		return 0, fmt.Errorf("recover: %s", *why)
	}
	return f.applied.Load(), nil
}
