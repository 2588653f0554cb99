package faults

import (
	"context"
	"fmt"
	"math/rand"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Fault is one injected fault, for the report.
type Fault struct {
	Kind  string `json:"kind"` // pause, kill, restart
	Node  string `json:"node"`
	At    int64  `json:"at"`              // ns since the start of the run
	Until int64  `json:"until,omitempty"` // when it was healed
	// Cut names the nodes the fault cut off from a majority (partitions).
	Cut []string `json:"cut,omitempty"`
	// Detail says more (the loss rate, the sides of a split).
	Detail string `json:"detail,omitempty"`
}

// Nemesis injects faults from a seeded schedule.
type Nemesis struct {
	rng   *rand.Rand
	nodes []*Node
	rec   *Recorder
	logf  func(string, ...any)
	// Gate, when set, is closed for a moment before each pause so that
	// the leader is idle when it stops, and opened once it is stopped.
	Gate *Gate

	// Firewall makes the network faults (NetFaults).
	Firewall *Firewall
	// Channels makes NetFaults cut one channel only: the raft traffic of
	// a node (the API still reaches the leader) or its API traffic (raft
	// still flows).
	Channels bool

	mu     sync.Mutex
	Faults []Fault
}

// SetNodes replaces the nodes the nemesis picks from (after a removal).
func (m *Nemesis) SetNodes(nodes []*Node) {
	m.mu.Lock()
	m.nodes = append([]*Node(nil), nodes...)
	m.mu.Unlock()
}

func (m *Nemesis) members() []*Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Node(nil), m.nodes...)
}

// NetFaults repeats until ctx is done: pick a network fault from the
// seeded schedule, keep it for minDur..maxDur, heal it (every rule
// deleted), wait a moment. The faults (with Channels set, cut-raft,
// cut-raft-leader and cut-api instead: see the comment in the loop):
//
//   - isolate: one random node cut off from all the others;
//   - isolate-leader: the leader cut off from all the others;
//   - split (5 nodes and more): a minority cut off from the majority, the
//     leader on either side;
//   - loss: 10-40% of the packets of one node's raft traffic dropped.
//
// DNS and the clients' API traffic are never filtered. Every rule is gone
// when it returns.
func (m *Nemesis) NetFaults(ctx context.Context, minDur, maxDur time.Duration) {
	defer m.Firewall.RemoveAll()
	for ctx.Err() == nil {
		sleepCtx(ctx, time.Duration(300+m.rng.Intn(900))*time.Millisecond)
		if ctx.Err() != nil {
			return
		}
		nodes := m.members()
		d := minDur + time.Duration(m.rng.Int63n(int64(maxDur-minDur)+1))
		p := m.rng.Intn(10)
		if len(nodes) < 5 && p >= 5 && p < 8 {
			p -= 5 // no split on 3 or 4 nodes (it would be an isolate): isolate
		}
		f := Fault{}
		var err error
		switch {
		case m.Channels:
			// raft cut: the node hears nothing from a leader, even though
			// it can still ask the leader's API for its commit index, so
			// it is cut off; API cut: raft flows, but the node cannot
			// confirm it is current (no ReadIndex), which the checks do
			// not count as cut off.
			var v *Node
			f.Kind = "cut-raft"
			if p >= 4 && p < 6 {
				f.Kind = "cut-raft-leader"
				v = CurrentLeader(nodes)
			}
			if p >= 6 {
				f.Kind = "cut-api"
			}
			if v == nil {
				v = nodes[m.rng.Intn(len(nodes))]
				if f.Kind == "cut-raft-leader" {
					f.Kind = "cut-raft"
				}
			}
			f.Node = v.ID
			raftOnly := f.Kind != "cut-api"
			if raftOnly {
				f.Cut = []string{v.ID}
			}
			err = m.Firewall.CutChannel([]*Node{v}, without(nodes, v), raftOnly)
		case p < 5:
			var v *Node
			f.Kind = "isolate"
			if p >= 3 {
				f.Kind = "isolate-leader"
				v = CurrentLeader(nodes)
			}
			if v == nil {
				f.Kind = "isolate"
				v = nodes[m.rng.Intn(len(nodes))]
			}
			rest := without(nodes, v)
			f.Node, f.Cut = v.ID, []string{v.ID}
			err = m.Firewall.Cut([]*Node{v}, rest)
		case p < 8:
			f.Kind = "split"
			perm := m.rng.Perm(len(nodes))
			minority := (len(nodes) - 1) / 2
			var small, big []*Node
			l := CurrentLeader(nodes)
			leaderSmall := m.rng.Intn(2) == 0
			if l != nil {
				if leaderSmall {
					small = append(small, l)
				} else {
					big = append(big, l)
				}
			}
			for _, i := range perm {
				n := nodes[i]
				if n == l {
					continue
				}
				if len(small) < minority {
					small = append(small, n)
				} else {
					big = append(big, n)
				}
			}
			f.Node = ids(small)
			f.Detail = "from " + ids(big)
			for _, n := range small {
				f.Cut = append(f.Cut, n.ID)
			}
			err = m.Firewall.Cut(small, big)
		default:
			f.Kind = "loss"
			v := nodes[m.rng.Intn(len(nodes))]
			rate := 0.1 + 0.1*float64(m.rng.Intn(4))
			f.Node, f.Detail = v.ID, fmt.Sprintf("%.0f%% of raft packets", 100*rate)
			err = m.Firewall.Loss(v, nodes, rate)
		}
		if err != nil {
			m.Firewall.RemoveAll()
			m.logf("nemesis: %s: %v", f.Kind, err)
			continue
		}
		f.At = m.rec.now()
		i := m.add(f)
		m.logf("nemesis: %s %s %s for %v", f.Kind, f.Node, f.Detail, d.Round(time.Millisecond))
		sleepCtx(ctx, d)
		m.healed(i) // before the rules go: Until is while the cut still held
		m.Firewall.RemoveAll()
		m.logf("nemesis: healed %s", f.Kind)
	}
}

func without(ns []*Node, x *Node) []*Node {
	var out []*Node
	for _, n := range ns {
		if n != x {
			out = append(out, n)
		}
	}
	return out
}

func NewNemesis(seed int64, nodes []*Node, rec *Recorder, logf func(string, ...any)) *Nemesis {
	return &Nemesis{rng: rand.New(rand.NewSource(seed)), nodes: nodes, rec: rec, logf: logf}
}

func (m *Nemesis) add(f Fault) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Faults = append(m.Faults, f)
	return len(m.Faults) - 1
}

func (m *Nemesis) healed(i int) {
	m.mu.Lock()
	m.Faults[i].Until = m.rec.now()
	m.mu.Unlock()
}

// Count is how many faults were injected.
func (m *Nemesis) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.Faults)
}

// CurrentLeader asks the running, unpaused nodes who leads, and returns
// the node a majority of them names (nil when there is none).
func CurrentLeader(nodes []*Node) *Node {
	votes := map[string]int{}
	asked := 0
	for _, n := range nodes {
		if !n.Running() || n.Paused() {
			continue
		}
		asked++
		if id, err := n.Leader(); err == nil && id != "" {
			votes[id]++
		}
	}
	for id, v := range votes {
		if v*2 > asked {
			for _, n := range nodes {
				if n.ID == id && n.Running() && !n.Paused() {
					return n
				}
			}
		}
	}
	return nil
}

// PauseLeader repeats until ctx is done: wait until there is a leader,
// SIGSTOP it for minPause..maxPause, SIGCONT it, and wait a moment. A
// paused node is always resumed, even when ctx ends during the pause.
func (m *Nemesis) PauseLeader(ctx context.Context, minPause, maxPause time.Duration) {
	for ctx.Err() == nil {
		var l *Node
		for ctx.Err() == nil {
			if l = CurrentLeader(m.nodes); l != nil {
				break
			}
			sleepCtx(ctx, 50*time.Millisecond)
		}
		if l == nil {
			return
		}
		// Let writes reach the leader before it stops.
		sleepCtx(ctx, time.Duration(200+m.rng.Intn(800))*time.Millisecond)
		if ctx.Err() != nil {
			return
		}
		d := minPause + time.Duration(m.rng.Int63n(int64(maxPause-minPause)+1))
		quiet := time.Duration(0)
		if m.Gate != nil {
			quiet = time.Duration(100+m.rng.Intn(300)) * time.Millisecond
			m.Gate.Close()
			sleepCtx(ctx, quiet)
		}
		err := l.Pause()
		m.Gate.Open()
		if err != nil {
			m.logf("nemesis: %v", err)
			continue
		}
		if quiet > 0 {
			m.logf("nemesis: writes held back for %v before the pause", quiet)
		}
		i := m.add(Fault{Kind: "pause", Node: l.ID, At: m.rec.now()})
		m.logf("nemesis: SIGSTOP %s (leader) for %v", l.ID, d.Round(time.Millisecond))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		if err := l.Resume(); err != nil {
			m.logf("nemesis: %v", err)
		}
		m.healed(i)
		m.logf("nemesis: SIGCONT %s", l.ID)
		sleepCtx(ctx, time.Duration(300+m.rng.Intn(700))*time.Millisecond)
	}
}

// HealAll resumes every paused node.
func HealAll(nodes []*Node) {
	for _, n := range nodes {
		if n.Paused() {
			_ = n.Resume()
		}
	}
}

// Load is CPU and disk pressure beside the nodes: busy loops and a dd
// writer that syncs every block, to slow the nodes' fsyncs.
type Load struct {
	cmds []*exec.Cmd
	wg   sync.WaitGroup
}

// StartLoad starts busy CPU loops and, when dsync is set, a loop of
// `dd oflag=dsync` writes of a file in dir (each dd bounded to a few MB).
// Stop ends them all.
func StartLoad(ctx context.Context, dir string, busy int, dsync bool) (*Load, error) {
	l := &Load{}
	start := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		if err := cmd.Start(); err != nil {
			return err
		}
		l.cmds = append(l.cmds, cmd)
		l.wg.Add(1)
		go func() { defer l.wg.Done(); _ = cmd.Wait() }()
		return nil
	}
	for i := 0; i < busy; i++ {
		if err := start("sh", "-c", "while :; do :; done"); err != nil {
			l.Stop()
			return nil, fmt.Errorf("busy loop: %w", err)
		}
	}
	if dsync {
		if _, err := exec.LookPath("dd"); err != nil {
			l.Stop()
			return nil, fmt.Errorf("dd not found on PATH: %w", err)
		}
		f := filepath.Join(dir, "dsync.bin")
		script := "while :; do dd if=/dev/zero of=" + strconv.Quote(f) + " bs=4k count=1024 oflag=dsync 2>/dev/null; done"
		if err := start("sh", "-c", script); err != nil {
			l.Stop()
			return nil, fmt.Errorf("dd writer: %w", err)
		}
	}
	return l, nil
}

// Stop kills every load process (whole process groups) and waits for them.
func (l *Load) Stop() {
	if l == nil {
		return
	}
	for _, c := range l.cmds {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		}
	}
	l.wg.Wait()
	l.cmds = nil
}

// KillRestart repeats until ctx is done: pick a victim (a random node, the
// leader, or every node, as the seeded schedule says), kill -9 it, leave
// it down for minDown..maxDown, start it again on the same data directory
// and wait until it is ready. Every node is running again when it returns.
func (m *Nemesis) KillRestart(ctx context.Context, minDown, maxDown time.Duration) {
	defer m.restartAll()
	for ctx.Err() == nil {
		sleepCtx(ctx, time.Duration(500+m.rng.Intn(1500))*time.Millisecond)
		if ctx.Err() != nil {
			return
		}
		var victims []*Node
		kind := "kill"
		switch p := m.rng.Intn(10); {
		case p < 4:
			victims = []*Node{m.nodes[m.rng.Intn(len(m.nodes))]}
		case p < 8:
			if l := CurrentLeader(m.nodes); l != nil {
				victims = []*Node{l}
				kind = "kill-leader"
			}
		default:
			victims = m.nodes
			kind = "kill-all"
		}
		if len(victims) == 0 {
			continue
		}
		var idx []int
		for _, v := range victims {
			v.Kill9()
			idx = append(idx, m.add(Fault{Kind: kind, Node: v.ID, At: m.rec.now()}))
		}
		down := minDown + time.Duration(m.rng.Int63n(int64(maxDown-minDown)+1))
		m.logf("nemesis: kill -9 %s (%s), down for %v", ids(victims), kind, down.Round(time.Millisecond))
		sleepCtx(ctx, down)
		for i, v := range victims {
			if err := v.Start(); err != nil {
				m.logf("nemesis: restart: %v", err)
			}
			m.healed(idx[i])
		}
		for _, v := range victims {
			if err := v.WaitReady(30 * time.Second); err != nil {
				m.logf("nemesis: %v", err)
			}
		}
		m.logf("nemesis: restarted %s", ids(victims))
	}
}

func (m *Nemesis) restartAll() {
	var started []*Node
	for _, n := range m.nodes {
		if !n.Running() {
			if err := n.Start(); err != nil {
				m.logf("nemesis: restart: %v", err)
				continue
			}
			started = append(started, n)
		}
	}
	for _, n := range started {
		if err := n.WaitReady(30 * time.Second); err != nil {
			m.logf("nemesis: %v", err)
		}
	}
}

func ids(ns []*Node) string {
	s := ""
	for i, n := range ns {
		if i > 0 {
			s += ","
		}
		s += n.ID
	}
	return s
}
