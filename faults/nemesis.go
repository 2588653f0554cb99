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

	mu     sync.Mutex
	Faults []Fault
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
