package apitest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/notify"
	"github.com/bgdns/bgdns/peer"
)

// Backend is an in-memory single-process stand-in for a cluster node. The
// zero value is not usable; call New.
type Backend struct {
	mu        sync.Mutex
	state     *control.State
	index     uint64
	self      string
	selfHTTP  string
	leader    string // leader API URL when this node plays a follower
	noLeader  bool
	ready     error
	stale     bool
	members   []peer.NodeStatus
	lagging   map[string]bool
	proposals []control.Command
	joined    []peer.JoinRequest
	removed   []string
	changes   notify.Broadcast
}

// New returns a leader "n1" of a three-voter cluster (n1, n2, n3) holding
// the empty state.
func New() *Backend {
	b := &Backend{state: control.Empty(), self: "n1", selfHTTP: "http://127.0.0.1:8053", lagging: map[string]bool{}}
	for i, id := range []string{"n1", "n2", "n3"} {
		b.members = append(b.members, peer.NodeStatus{
			ID: id, RaftAddr: fmt.Sprintf("127.0.0.1:%d", 7053+i), HTTPAddr: fmt.Sprintf("http://127.0.0.1:%d", 8053+i),
			DNSAddr: fmt.Sprintf("127.0.0.1:%d", 5353+i), Voter: true, Role: peer.RoleVoter, Leader: i == 0, Serving: true, Reachable: true,
		})
	}
	return b
}

// SetFollower makes Propose, Join and Remove fail with CodeNotLeader
// naming leaderURL ("" = back to leader).
func (b *Backend) SetFollower(leaderURL string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leader = leaderURL
}

// SetNoLeader makes writes fail with CodeNoLeader.
func (b *Backend) SetNoLeader(v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.noLeader = v
}

// SetReady sets what Ready returns.
func (b *Backend) SetReady(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ready = err
}

// SetLagging names voters that never apply new entries: WaitApplied
// blocks until its context ends and reports them behind.
func (b *Backend) SetLagging(ids ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lagging = map[string]bool{}
	for _, id := range ids {
		b.lagging[id] = true
	}
}

// Proposals returns every command proposed so far, in order.
func (b *Backend) Proposals() []control.Command {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.proposals)
}

// Joined and Removed return the membership changes made so far.
func (b *Backend) Joined() []peer.JoinRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.joined)
}

func (b *Backend) Removed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.removed)
}

// State implements api.Backend.
func (b *Backend) State() *control.State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Backend) writable() error {
	if b.noLeader {
		return &control.Error{Code: control.CodeNoLeader, Message: "no leader"}
	}
	if b.leader != "" {
		return &control.Error{Code: control.CodeNotLeader, Message: "not the leader", Leader: b.leader}
	}
	return nil
}

// Propose implements api.Backend: the command goes through the log
// encoding and is applied at the next index, as Raft would.
func (b *Backend) Propose(ctx context.Context, cmd control.Command) (control.Result, error) {
	if err := ctx.Err(); err != nil {
		return control.Result{}, err
	}
	if cmd.Time.IsZero() { // as the leader stamps it
		cmd.Time = time.Now().UTC()
	}
	cmd.Rules = control.RulesVersion
	raw, err := control.EncodeCommand(cmd)
	if err != nil {
		return control.Result{}, err
	}
	dec, err := control.DecodeCommand(raw)
	if err != nil {
		return control.Result{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.writable(); err != nil {
		return control.Result{}, err
	}
	b.proposals = append(b.proposals, dec)
	b.index++
	next, res := b.state.Apply(dec, b.index)
	b.state = next
	b.confirmRetireLocked(res)
	b.changes.Broadcast()
	return res, nil
}

// confirmRetireLocked does what a real leader does once every member
// applied a switch: it commits the retire confirmation (at once here,
// unless a member lags). Like the real one it changes no revision; unlike
// it, it takes no index of its own, so that the indexes tests see stay
// those of their own writes.
func (b *Backend) confirmRetireLocked(res control.Result) {
	if res.Err != nil || res.Service == nil || len(b.lagging) > 0 {
		return
	}
	idx, pending := res.Service.PendingRetire()
	if !pending {
		return
	}
	now := time.Now().UTC()
	b.state, _ = b.state.Apply(control.Command{Op: control.OpRetireConfirmed, Name: res.Service.Name, Time: now,
		Actor: "bgdns", Retire: &control.RetireSpec{SwitchIndex: idx, ConfirmedAt: now}}, b.index)
}

// WaitApplied implements api.Backend.
func (b *Backend) WaitApplied(ctx context.Context, index uint64) ([]peer.NodeStatus, error) {
	b.mu.Lock()
	lag := len(b.lagging) > 0
	b.mu.Unlock()
	if lag {
		<-ctx.Done()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	nodes := b.nodesLocked(index)
	if lag {
		return nodes, ctx.Err()
	}
	return nodes, nil
}

func (b *Backend) nodesLocked(index uint64) []peer.NodeStatus {
	out := slices.Clone(b.members)
	for i := range out {
		out[i].Applied = b.index
		out[i].LastContact = 3 * time.Millisecond
		if b.lagging[out[i].ID] && index > 0 {
			out[i].Applied = index - 1
		}
		if out[i].ID == b.self {
			out[i].LastContact = 0
		}
	}
	return out
}

// Status implements api.Backend.
func (b *Backend) Status(context.Context) peer.ClusterStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := peer.ClusterStatus{Self: b.self, CommitIndex: b.index, Members: b.nodesLocked(0)}
	if !b.noLeader {
		st.LeaderID, st.LeaderHTTP = b.self, b.selfHTTP
		if b.leader != "" {
			st.LeaderID, st.LeaderHTTP = "leader", b.leader
		}
	}
	return st
}

// Ready implements api.Backend.
func (b *Backend) Ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready == nil && b.stale {
		return errors.New("not confirmed as current by a leader within max stale 2s")
	}
	return b.ready
}

// SetStale makes the node serve its state without being able to confirm
// it, as a real node does after losing its leader under the stale policy
// "serve": Serving stays true, Stale is true, Ready says why.
func (b *Backend) SetStale(v bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stale = v
}

// Serving implements api.Backend: a node that is not ready serves only
// when it is merely stale.
func (b *Backend) Serving() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ready == nil
}

// Stale implements api.Backend.
func (b *Backend) Stale() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ready == nil && b.stale
}

// Confirm implements api.Backend: like a real node, it cannot confirm
// without a leader, and a confirmation ends staleness.
func (b *Backend) Confirm(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.noLeader {
		return &control.Error{Code: control.CodeNoLeader, Message: "no leader to confirm with"}
	}
	b.stale = false
	return nil
}

// ReadIndex implements api.Backend.
func (b *Backend) ReadIndex(context.Context) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.writable(); err != nil {
		return 0, err
	}
	return b.index, nil
}

// Join implements api.Backend.
func (b *Backend) Join(_ context.Context, req peer.JoinRequest) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.writable(); err != nil {
		return err
	}
	for i, m := range b.members {
		if m.ID == req.ID && m.RaftAddr != req.RaftAddr {
			return control.Conflict("node %s is already a member at %s", req.ID, m.RaftAddr)
		}
		if m.ID == req.ID {
			// as cluster.Node: joining again unchanged is a no-op
			// (metadata is updated)
			b.joined = append(b.joined, req)
			b.members[i].HTTPAddr, b.members[i].DNSAddr = req.HTTPAddr, req.DNSAddr
			return nil
		}
	}
	b.joined = append(b.joined, req)
	b.members = append(b.members, peer.NodeStatus{ID: req.ID, RaftAddr: req.RaftAddr,
		HTTPAddr: req.HTTPAddr, DNSAddr: req.DNSAddr, Voter: !req.Edge(), Role: req.MemberRole(), Reachable: true})
	return nil
}

// Remove implements api.Backend.
func (b *Backend) Remove(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.writable(); err != nil {
		return err
	}
	i := slices.IndexFunc(b.members, func(m peer.NodeStatus) bool { return m.ID == id })
	if i < 0 {
		return control.NotFound("node %s is not a member", id)
	}
	if id == b.self {
		return control.Conflict("node %s is the leader; transfer leadership first", id)
	}
	b.members = slices.Delete(b.members, i, i+1)
	b.removed = append(b.removed, id)
	return nil
}

// Applied implements api.Backend.
func (b *Backend) Applied() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.index
}

// Self implements api.Backend.
func (b *Backend) Self() peer.NodeStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range b.nodesLocked(0) {
		if n.ID == b.self {
			return n
		}
	}
	return peer.NodeStatus{ID: b.self}
}

// ErrNotReady is a ready error for tests.
var ErrNotReady = errors.New("not caught up: applied 3 of 9")

// Checkpoint implements api.Backend. The double keeps no log, so, like a
// real node restored from a snapshot that carried no hash, it knows no
// hash: it only reports its applied index.
func (b *Backend) Checkpoint(index uint64) peer.Checkpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	return peer.Checkpoint{Index: index, HeadIndex: b.index}
}

// RetireWaiting implements api.Backend: the members that, like the
// lagging ones of SetLagging, have not applied index.
func (b *Backend) RetireWaiting(_ context.Context, index uint64) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, n := range b.nodesLocked(index) {
		if n.Applied < index {
			out = append(out, n.ID)
		}
	}
	return out
}
