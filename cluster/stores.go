package cluster

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

const (
	boltFile         = "raft.db"
	logCacheSize     = 512
	tcpMaxPool       = 3
	tcpTimeout       = 10 * time.Second
	maxBootScanSteps = 1024
	boltLockTimeout  = 2 * time.Second
)

// stores is what Open builds (or takes from Config) for raft.
type stores struct {
	logs    raft.LogStore
	stable  raft.StableStore
	snaps   raft.SnapshotStore
	trans   raft.Transport
	closers []io.Closer // closed in order at shutdown
}

func openStores(cfg *Config, hl hclog.Logger) (*stores, error) {
	s := &stores{logs: cfg.LogStore, stable: cfg.StableStore, snaps: cfg.SnapshotStore, trans: cfg.Transport}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("cluster: data dir: %w", err)
		}
	}
	if s.logs == nil {
		if err := checkBoltFile(filepath.Join(cfg.DataDir, boltFile)); err != nil {
			return nil, err
		}
		path := filepath.Join(cfg.DataDir, boltFile)
		bolt, err := guarded(path, func() (*raftboltdb.BoltStore, error) {
			return raftboltdb.New(raftboltdb.Options{
				Path:        path,
				BoltOptions: &bbolt.Options{Timeout: boltLockTimeout}, // another process holding it: fail, not hang
				NoSync:      false,                                    // fsync every append
			})
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: open bolt store: %w", err)
		}
		s.closers = append(s.closers, bolt)
		cached, err := raft.NewLogCache(logCacheSize, bolt)
		if err != nil {
			s.close()
			return nil, err
		}
		s.logs, s.stable = cached, bolt
	}
	if s.snaps == nil {
		fs, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, hl.Named("snapshots"))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("cluster: snapshot store: %w", err)
		}
		s.snaps = fs
	}
	if s.trans == nil {
		t, err := newTCPTransport(cfg, hl.Named("transport"))
		if err != nil {
			s.close()
			return nil, err
		}
		s.trans = t
		// The transport closes before the bolt file.
		s.closers = append([]io.Closer{closerFunc(t.Close)}, s.closers...)
	}
	return s, nil
}

func newTCPTransport(cfg *Config, hl hclog.Logger) (*raft.NetworkTransport, error) {
	addr := cfg.RaftAddr
	var advertise net.Addr
	host, port, _ := net.SplitHostPort(addr)
	if port != "0" {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("cluster: raft address %q: %w", addr, err)
		}
		if a.IP == nil || a.IP.IsUnspecified() {
			return nil, fmt.Errorf("cluster: raft address %q must name an address peers can reach (host %q)", addr, host)
		}
		advertise = a
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: raft transport on %s: %w", addr, err)
	}
	var server, client *tls.Config
	if cfg.TLS != nil {
		server, client = cfg.TLS.PeerServer(), cfg.TLS.PeerClient()
	}
	stream := newStreamLayer(ln, advertise, server, client, cfg.MaxRaftConns, cfg.Logger.With("component", "raft-transport"))
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: tcpMaxPool,
		Timeout: tcpTimeout,
		Logger:  hl,
	}), nil
}

func (s *stores) close() error {
	var errs []error
	for _, c := range s.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// lastCommandAtOrBelow returns the index of the last command entry at or
// below idx in logs, skipping raft's own entries (no-ops, configuration,
// barriers), which never reach the FSM. It returns 0 when it finds none in
// the log (what precedes the log is in a snapshot, restored before the log
// is applied).
func lastCommandAtOrBelow(logs raft.LogStore, idx uint64) (uint64, error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return 0, err
	}
	for i, steps := idx, 0; i >= first && i > 0 && steps < maxBootScanSteps; i, steps = i-1, steps+1 {
		var l raft.Log // fresh each time: a decode must not see the previous entry's fields
		if err := logs.GetLog(i, &l); err != nil {
			if errors.Is(err, raft.ErrLogNotFound) {
				return 0, nil
			}
			return 0, err
		}
		if l.Type == raft.LogCommand {
			return i, nil
		}
	}
	return 0, nil
}
