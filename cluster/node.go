package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// Node is one bgdns cluster member: a Raft peer whose FSM holds the
// control.State this node serves.
type Node struct {
	cfg    Config
	log    *slog.Logger
	raft   *raft.Raft
	fsm    *fsm
	stores *stores
	peers  Peers

	// bootTarget is the last command index in the log at boot: the node
	// serves only once it has applied at least that much again.
	bootTarget uint64
	// served is the highest index this node served before it stopped; it
	// serves again only once it has applied that much.
	served    uint64
	watermark *watermark

	serving           atomic.Bool
	stale             atomic.Bool  // serving from a state not confirmed current
	confirmedAt       atomic.Int64 // start of the last confirmation, unix ns (confirm.go)
	everConfirmed     atomic.Bool
	termReady         atomic.Uint64 // the term whose first barrier this leader applied (confirm.go)
	caughtUp          atomic.Bool
	leaving           atomic.Bool
	steppedDown       atomic.Bool // StepDown ran (Shutdown does not run it twice)
	hadState          bool        // the stores held a cluster's state at Open
	notReady          atomic.Pointer[string]
	diverged          atomic.Pointer[string] // set once when the log is found to differ
	lastLeaderContact atomic.Int64           // unix nanoseconds
	registering       atomic.Bool
	selfRemoved       atomic.Bool // Remove was asked to remove this node
	// outOfCluster says why, when a majority of the voters no longer list
	// this node and it knows no leader (removed.go).
	outOfCluster atomic.Pointer[string]
	lastRefresh  atomic.Int64

	stop     chan struct{}
	wg       sync.WaitGroup
	shutOnce sync.Once
	shutErr  error
	snapOnce sync.Once    // the snapshot a stop takes (shutdown.go)
	snapDone <-chan error // its result, once started
}

// Open starts the node: it opens (or creates) the stores, restores the
// latest snapshot, starts Raft and, with cfg.Bootstrap and no existing
// state, bootstraps a single-voter cluster.
func Open(cfg Config) (*Node, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	rc := cfg.raftConfig()
	st, err := openStores(&cfg, rc.Logger)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:    cfg,
		log:    cfg.Logger,
		fsm:    newFSM(cfg.OnChange, cfg.Logger),
		stores: st,
		peers:  cfg.Peers,
		stop:   make(chan struct{}),
	}
	n.fsm.source = "the log"
	n.fsm.onSwitch = cfg.OnSwitch
	if cfg.LogStore == nil {
		n.fsm.source = filepath.Join(cfg.DataDir, boltFile)
	}
	n.setNotReady("starting")
	fail := func(err error) (*Node, error) {
		st.close()
		return nil, err
	}
	n.watermark = newWatermark(cfg.DataDir)
	if n.served, err = n.watermark.load(); err != nil {
		return fail(err)
	}
	if err := checkLog(st.logs, n.fsm.source); err != nil {
		return fail(err)
	}
	last, err := st.logs.LastIndex()
	if err != nil {
		return fail(fmt.Errorf("cluster: read log: %w", err))
	}
	if n.bootTarget, err = lastCommandAtOrBelow(st.logs, last); err != nil {
		return fail(fmt.Errorf("cluster: read log: %w", err))
	}
	hasState, err := raft.HasExistingState(st.logs, st.stable, st.snaps)
	if err != nil {
		return fail(fmt.Errorf("cluster: inspect state: %w", err))
	}
	r, err := guarded(n.fsm.source, func() (*raft.Raft, error) {
		return raft.NewRaft(rc, n.fsm, st.logs, st.stable, st.snaps, wrapTransport(st.trans))
	})
	if err != nil {
		return fail(fmt.Errorf("cluster: start raft: %w", err))
	}
	n.raft = r
	n.hadState = hasState
	if err := n.checkLostTail(last, st.snaps); err != nil {
		_ = r.Shutdown().Error()
		return fail(err)
	}
	if !hasState && cfg.Bootstrap {
		conf := raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: raft.ServerID(cfg.NodeID), Address: st.trans.LocalAddr(),
		}}}
		if err := r.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			_ = r.Shutdown().Error()
			return fail(fmt.Errorf("cluster: bootstrap: %w", err))
		}
		n.log.Info("bootstrapped a new cluster", "raft_addr", st.trans.LocalAddr())
	}
	n.log.Info("raft started", "raft_addr", st.trans.LocalAddr(), "existing_state", hasState,
		"boot_index", n.bootTarget, "served_before", n.served, "applied", n.fsm.applied.Load())
	n.wg.Add(5)
	go n.watch()
	go n.every(n.cfg.DivergenceCheck, n.checkDivergence)
	go n.loop(0, n.confirmCurrent)
	go n.every(retireCheckEvery, n.confirmRetires)
	go n.every(nsFollowEvery, n.followNS)
	return n, nil
}

// HadState reports whether the stores held a cluster's state when the node
// opened them (false for a new node, bootstrapped or joining).
func (n *Node) HadState() bool { return n.hadState }

// State is this node's current applied state (a lock-free load).
func (n *Node) State() *control.State { return n.fsm.state.Load() }

// Applied is the index of the last command entry applied on this node.
func (n *Node) Applied() uint64 { return n.fsm.applied.Load() }

// Serving reports whether this node may answer DNS for our zones. An atomic
// load; the watch loop computes it.
//
// Freshness is checked at the moment of the call too, not only by the
// readiness loop: a node that was paused (SIGSTOP, a long stall) must not
// answer as current between waking up and the loop's next round.
func (n *Node) Serving() bool {
	if !n.serving.Load() || n.diverged.Load() != nil {
		return false
	}
	return n.cfg.StalePolicy != StaleServfail || n.fresh(time.Now())
}

// Stale reports whether the node serves answers from a state it could not
// confirm as current (the stale policy "serve"); the DNS server labels
// them. Two atomic loads and a clock read.
func (n *Node) Stale() bool {
	if n.cfg.StalePolicy == StaleServfail {
		return false // such a node stops serving instead
	}
	return n.stale.Load() || (n.serving.Load() && !n.fresh(time.Now()))
}

// Ready is nil while the node serves current answers, or says why not
// (it may still serve stale ones: see Stale).
func (n *Node) Ready() error {
	if n.Serving() && !n.Stale() {
		return nil
	}
	if d := n.diverged.Load(); d != nil {
		return divergedError(*d)
	}
	if n.serving.Load() && n.notReady.Load() == nil {
		return &control.Error{Code: control.CodeNoLeader, Message: "not confirmed as current by a leader within max stale " + n.cfg.MaxStale.String()}
	}
	if p := n.notReady.Load(); p != nil {
		return &control.Error{Code: control.CodeNoLeader, Message: *p}
	}
	return &control.Error{Code: control.CodeNoLeader, Message: "not serving"}
}

// IsLeader reports whether this node is the Raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// RaftAddr is the address the transport advertises.
func (n *Node) RaftAddr() string { return string(n.stores.trans.LocalAddr()) }

// WaitLeader blocks until a leader is known (possibly this node).
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if addr, _ := n.raft.LeaderWithID(); addr != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster: no leader: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// StepDown stops serving and, on the leader of a multi-voter cluster,
// hands leadership to another voter. Shutdown calls it; callers that shut
// down in stages (readiness, API, DNS, Raft) call it first.
func (n *Node) StepDown(ctx context.Context) error {
	n.steppedDown.Store(true)
	n.leaving.Store(true)
	n.serving.Store(false)
	n.setNotReady("shutting down")
	// The snapshot a stop takes starts once leadership is handed over
	// (or not), and runs while the API drains.
	defer n.beginSnapshot()
	if !n.IsLeader() || n.voterCount() < 2 {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- n.raft.LeadershipTransfer().Error() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("cluster: leadership transfer: %w", err)
		}
		n.log.Info("handed leadership over")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: leadership transfer: %w", ctx.Err())
	}
}

func (n *Node) setNotReady(why string) { n.notReady.Store(&why) }

func (n *Node) configuration() []raft.Server {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	return f.Configuration().Servers
}

func (n *Node) voterCount() int {
	c := 0
	for _, s := range n.configuration() {
		if s.Suffrage == raft.Voter {
			c++
		}
	}
	return c
}

// leader returns the leader's id and API address as far as this node knows.
func (n *Node) leader() (id, httpAddr string) {
	_, lid := n.raft.LeaderWithID()
	if lid == "" {
		return "", ""
	}
	return string(lid), n.fsm.Members()[string(lid)].HTTPAddr
}

// every runs f every d (from the end of one run to the start of the next)
// until the node stops. It is one of the node's goroutines (counted in
// n.wg).
func (n *Node) every(d time.Duration, f func()) {
	n.loop(d, func() time.Duration { f(); return d })
}

// loop runs f after first, then again after each delay f returns, until
// the node stops. It is one of the node's goroutines (counted in n.wg).
func (n *Node) loop(first time.Duration, f func() (next time.Duration)) {
	defer n.wg.Done()
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		t.Reset(f())
	}
}
