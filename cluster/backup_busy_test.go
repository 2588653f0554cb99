package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// Backups taken while writes flow and raft snapshots on its own (a low
// threshold and interval) all succeed and each decodes to a state at
// least as new as the last write acknowledged before it was asked for.
func TestBackupWhileRaftSnapshots(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold = 16
		cfg.SnapshotInterval = 50 * time.Millisecond
		cfg.TrailingLogs = 32
	})
	c.apply(zonePut())
	c.apply(servicePut())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cmd := control.Command{Op: control.OpServicePut, Name: testSvc, Time: testTime, Actor: "test",
				Service: servicePut().Service}
			cmd.Service.TTL = uint32(5 + i%50)
			l := c.leader()
			res, err := l.n.Propose(context.Background(), cmd)
			if err == nil && res.Err == nil {
				mu.Lock()
				acked = max(acked, res.Index)
				mu.Unlock()
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for i := 0; i < 20; i++ {
		mu.Lock()
		before := acked
		mu.Unlock()
		l := c.leader()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var buf bytes.Buffer
		info, err := l.n.WriteSnapshot(ctx, &buf)
		cancel()
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if info.Index < before {
			t.Fatalf("backup %d at index %d, older than the write acknowledged at %d before it", i, info.Index, before)
		}
	}
}

// Raft refuses to snapshot while a configuration change is not committed
// (here a voter added that cannot be reached yet). A backup asked for
// then waits, and is written once the change commits; one whose deadline
// passes first says to try again (503), not a server error.
func TestBackupWaitsForAConfigurationChange(t *testing.T) {
	c := newTestCluster(t, 1)
	c.apply(zonePut())
	c.apply(servicePut())
	a := c.nodes[0]
	b := newTNode(t, "b1")
	c.nodes = append(c.nodes, b)
	a.n.raft.AddVoter(raft.ServerID(b.id), b.addr, 0, 0) // cannot commit: b1 is not running
	eventually(t, 5*time.Second, "raft refuses to snapshot", func() bool {
		err := a.n.raft.Snapshot().Error()
		return err != nil && strings.Contains(err.Error(), "configuration")
	})

	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := a.n.WriteSnapshot(short, io.Discard)
	cancel()
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Code != control.CodeNoLeader || !strings.Contains(ce.Message, "try again") {
		t.Fatalf("backup while the configuration change is pending: %v, want no_leader saying try again", err)
	}

	type result struct {
		info SnapshotInfo
		err  error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var buf bytes.Buffer
		info, err := a.n.WriteSnapshot(ctx, &buf)
		done <- result{info, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("backup returned while the change was pending: %+v %v", r.info, r.err)
	case <-time.After(300 * time.Millisecond):
	}
	c.connectAll()
	c.open(b, false)
	r := <-done
	if r.err != nil {
		t.Fatalf("backup after the change committed: %v", r.err)
	}
	if r.info.Services != 1 || r.info.Zones != 1 || !r.info.ChecksumOK {
		t.Fatalf("backup info %+v", r.info)
	}
}
