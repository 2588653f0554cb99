package cluster

import (
	"github.com/hashicorp/raft"
)

// serialHeartbeats wraps a raft.Transport so that raft never installs its
// heartbeat fast path: every AppendEntries, heartbeats included, reaches
// raft's main loop through Consumer() and is handled there, in order with
// everything else that loop does.
//
// Why: with the fast path, NetworkTransport hands a heartbeat to raft on
// the connection's own goroutine. A heartbeat that carries a newer term
// sets the term and turns the node into a follower while, on a leader that
// was paused (SIGSTOP, a long GC or disk stall), the main loop is still
// dispatching the client requests that queued up during the pause. Those
// entries are then written and replicated with the new term at indexes
// where the new leader holds other entries: same index and term, different
// data, and the logs never converge again (an open upstream raft bug,
// https://github.com/hashicorp/raft/issues/695, still open
// upstream at v1.7.3, with the candidate fix in pull request 701). Taking
// the fast path away serialises every term change with log dispatch. The
// price is that a follower whose main loop is busy (writing a batch to a
// slow disk) answers a heartbeat only after that write; the election
// timeout has to cover a log write, which it does with a wide margin at
// bgdns's 500 ms.
type serialHeartbeats struct {
	raft.Transport
}

// wrapTransport returns t with the heartbeat fast path disabled.
func wrapTransport(t raft.Transport) raft.Transport {
	if _, ok := t.(serialHeartbeats); ok {
		return t
	}
	return serialHeartbeats{Transport: t}
}

// SetHeartbeatHandler is deliberately a no-op; see serialHeartbeats.
func (serialHeartbeats) SetHeartbeatHandler(func(raft.RPC)) {}

// Close closes the wrapped transport when it can be closed (raft's
// shutdown looks for this method).
func (s serialHeartbeats) Close() error {
	if c, ok := s.Transport.(raft.WithClose); ok {
		return c.Close()
	}
	return nil
}

var _ raft.WithClose = serialHeartbeats{}
