package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/shutdown"
	"github.com/hashicorp/raft"
)

// stuckTransport passes RPCs through until stick is called; from then on
// every AppendEntries and TimeoutNow blocks until release (a peer that
// accepted the connection and never answers, with no deadline).
type stuckTransport struct {
	raft.Transport
	stuck   chan struct{} // closed: RPCs block
	release chan struct{}
}

func newStuckTransport(t raft.Transport) *stuckTransport {
	return &stuckTransport{Transport: t, stuck: make(chan struct{}), release: make(chan struct{})}
}

func (s *stuckTransport) stick() { close(s.stuck) }

func (s *stuckTransport) wait() {
	select {
	case <-s.stuck:
		<-s.release
	default:
	}
}

func (s *stuckTransport) AppendEntries(id raft.ServerID, a raft.ServerAddress, req *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	s.wait()
	return s.Transport.AppendEntries(id, a, req, resp)
}

func (s *stuckTransport) TimeoutNow(id raft.ServerID, a raft.ServerAddress, req *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	s.wait()
	return s.Transport.TimeoutNow(id, a, req, resp)
}

// A leader whose replication to a follower is stuck in an RPC that never
// returns cannot stop raft (raft's Shutdown waits for the replication
// goroutine): Shutdown gives up on raft after its budget, says so, and
// returns well within the stop budget.
func TestShutdownBoundedWhenRaftHangs(t *testing.T) {
	stuck := map[string]*stuckTransport{}
	c := newTestCluster(t, 2, func(cfg *Config) {
		if stuck[cfg.NodeID] == nil {
			stuck[cfg.NodeID] = newStuckTransport(cfg.Transport)
		}
		cfg.Transport = stuck[cfg.NodeID]
	})
	c.apply(zonePut())
	leader := c.leader()
	st := stuck[leader.id]
	defer close(st.release)
	st.stick()
	// A write makes the replication goroutine send (and block).
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, _ = leader.n.Propose(ctx, servicePut())
	}()
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), StopBudget)
	defer cancel()
	err := leader.n.Shutdown(ctx)
	took := time.Since(start)
	if !errors.Is(err, shutdown.ErrOverran) || !strings.Contains(err.Error(), `"raft"`) {
		t.Fatalf("Shutdown = %v, want a raft stage that overran", err)
	}
	if took > StopBudget {
		t.Fatalf("Shutdown took %v, more than the stop budget %v", took, StopBudget)
	}
	leader.closed = true // its raft is still stuck; the cleanup must not wait for it
}
