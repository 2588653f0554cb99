package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// Propose commits cmd through Raft and returns what Apply decided. A
// domain failure (precondition, unknown service, ...) is a value in
// Result.Err, not an error. The error is a *control.Error: CodeNotLeader on
// a follower (Leader names the leader's API), CodeNoLeader when nothing can
// be committed now, CodeInvalid for an oversized command.
//
// Propose is where commands enter Raft, and it runs only on the leader, so
// it stamps them here: Time with the leader's clock when the proposer left
// it zero, MaxStale with this node's bound when zero. Apply never reads a
// clock. A zone put with NSAuto gets its NS set and glue from the members
// here too (nsauto.go).
func (n *Node) Propose(ctx context.Context, cmd control.Command) (control.Result, error) {
	if err := n.checkLeader(); err != nil {
		return control.Result{}, err
	}
	cmd = n.withAutoNS(n.stamp(cmd))
	data, err := encodeCommandEntry(cmd)
	if err != nil {
		return control.Result{}, control.BadRequest("encode command: %v", err)
	}
	if len(data) > maxEntrySize {
		return control.Result{}, control.Invalid("command is larger than %d bytes", maxEntrySize)
	}
	resp, err := n.apply(ctx, data)
	if err != nil {
		return control.Result{}, err
	}
	n.pushCommit()
	switch r := resp.(type) {
	case control.Result:
		return r, nil
	case error:
		return control.Result{}, &control.Error{Code: control.CodeInternal, Message: r.Error()}
	default:
		return control.Result{}, &control.Error{Code: control.CodeInternal, Message: fmt.Sprintf("unexpected apply response %T", resp)}
	}
}

// stamp fills in the command's Time (now, UTC) and MaxStale (the node's
// configured bound) when the proposer left them zero.
func (n *Node) stamp(cmd control.Command) control.Command {
	if cmd.Time.IsZero() {
		cmd.Time = time.Now().UTC()
	}
	if cmd.MaxStale == 0 {
		cmd.MaxStale = control.Duration(n.cfg.MaxStale)
	}
	cmd.Rules = control.RulesVersion
	return cmd
}

func (n *Node) proposeMember(ctx context.Context, op memberOp) error {
	data, err := encodeMemberEntry(op)
	if err != nil {
		return err
	}
	resp, err := n.apply(ctx, data)
	if err != nil {
		return err
	}
	if e, ok := resp.(error); ok {
		return e
	}
	return nil
}

// checkLeader is nil on the leader, else the error a write gets here.
func (n *Node) checkLeader() error {
	if !n.IsLeader() {
		// Also after StepDown: the API can still forward to the new leader.
		return n.notLeaderError()
	}
	if n.leaving.Load() {
		return &control.Error{Code: control.CodeNoLeader, Message: "this node is shutting down"}
	}
	return nil
}

func (n *Node) notLeaderError() error {
	id, httpAddr := n.leader()
	switch {
	case id == "":
		return &control.Error{Code: control.CodeNoLeader, Message: "no leader is known; the cluster cannot commit right now"}
	case httpAddr == "":
		return &control.Error{Code: control.CodeNoLeader, Message: fmt.Sprintf("the leader %s has not published its API address yet", id)}
	default:
		return &control.Error{Code: control.CodeNotLeader, Leader: httpAddr,
			Message: fmt.Sprintf("this node is a follower; the leader is %s at %s", id, httpAddr)}
	}
}

// apply hands data to raft and waits for the FSM's response, or for ctx.
func (n *Node) apply(ctx context.Context, data []byte) (interface{}, error) {
	timeout := DefaultApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 || ctx.Err() != nil {
		// nothing is handed to raft for a request already given up
		// (a context without a deadline can still be cancelled)
		return nil, &control.Error{Code: control.CodeNoLeader, Message: "deadline passed or request cancelled before proposing"}
	}
	f := n.raft.Apply(data, timeout)
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		if err != nil {
			return nil, n.raftError(err)
		}
		return f.Response(), nil
	case <-ctx.Done():
		return nil, &control.Error{Code: control.CodeNoLeader,
			Message: "not committed before the deadline; it may still be applied (retry with the same request_id)"}
	}
}

// raftError maps raft's errors to the domain's.
func (n *Node) raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return n.notLeaderError()
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return &control.Error{Code: control.CodeNoLeader,
			Message: "leadership changed while committing; it may have been applied (retry with the same request_id)"}
	case errors.Is(err, raft.ErrRaftShutdown):
		return &control.Error{Code: control.CodeNoLeader, Message: "this node is shutting down"}
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return &control.Error{Code: control.CodeNoLeader, Message: "timed out handing the change to raft"}
	default:
		return &control.Error{Code: control.CodeNoLeader, Message: err.Error()}
	}
}

// pushCommit tells the followers at once that the entry just applied is
// committed. A follower learns the commit index only from the leader's next
// AppendEntries, which an idle leader sends every CommitTimeout; a barrier
// entry is replicated right away and carries the new commit index, so every
// node applies (and answers DNS from) the change one round trip later.
// Nobody waits for it. A node alone in the configuration has nobody to
// tell: the barrier would only cost a second log write and fsync per change.
func (n *Node) pushCommit() {
	if len(n.configuration()) < 2 {
		return
	}
	_ = n.raft.Barrier(50 * time.Millisecond) // bounds only the hand-over to raft
}
