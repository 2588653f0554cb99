package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config says what one fault run does.
type Config struct {
	Bin      string        // the bgdns binary
	Nodes    int           // 3 or 5
	Seed     int64         // drives the clients' and the nemesis' choices
	Duration time.Duration // how long writes and faults go on
	Writers  int           // concurrent clients
	Services int           // services the clients write to

	PauseMin, PauseMax time.Duration // SIGSTOP of the leader; zero: no pauses
	KillMin, KillMax   time.Duration // kill -9 and restart: how long the victims stay down; zero: no kills
	LateJoin           bool          // the last node joins a third of the way into the run, while writes go on
	Quiesce            bool          // hold writes back for a moment before each pause (see Gate)
	// SnapshotThreshold, when set, is the nodes' --snapshot-threshold. A
	// high one keeps every entry in the log, where the log check can see
	// it: what a snapshot compacted away is compared only through its
	// effects (histories, DNS).
	SnapshotThreshold uint64
	// KillAtEnd stops the nodes with SIGKILL before their logs are read:
	// a clean shutdown takes a snapshot and compacts the log.
	KillAtEnd bool

	// Net turns on the network nemesis (NetFaults: partitions and packet
	// loss with iptables), each fault lasting NetMin..NetMax.
	Net            bool
	NetMin, NetMax time.Duration
	// Channels: the network faults cut the raft or the API traffic of a
	// node, not both (see Nemesis.Channels).
	Channels bool
	// RemoveAt, when set, removes a node (DELETE /v1/cluster/members/{id})
	// this long into the run, while writes and faults go on.
	RemoveAt time.Duration
	// Stale says the nodes' --stale-policy, --max-stale and --stale-ttl
	// and the margin the stale checks allow.
	Stale StaleRules

	BusyLoops int  // CPU busy loops beside the nodes
	Dsync     bool // a dd oflag=dsync writer beside the nodes

	Think           time.Duration // the longest pause of a client between writes
	RequestTimeout  time.Duration // per client request
	ConvergeTimeout time.Duration // after heal
	OutDir          string        // artefacts of a failed run go under it
	Keep            bool          // leave the artefacts of a run that passed too
}

func (c *Config) defaults() {
	if c.Nodes == 0 {
		c.Nodes = 3
	}
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Writers == 0 {
		c.Writers = 24
	}
	if c.Services == 0 {
		c.Services = 4
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 3 * time.Second
	}
	if c.ConvergeTimeout == 0 {
		c.ConvergeTimeout = 30 * time.Second
	}
	if c.Stale.Policy == "" {
		c.Stale.Policy = "serve"
	}
	if c.Stale.MaxStale == 0 {
		c.Stale.MaxStale = 2 * time.Second
	}
	if c.Stale.StaleTTL == 0 {
		c.Stale.StaleTTL = time.Second
	}
	if c.Stale.Margin == 0 {
		c.Stale.Margin = 500 * time.Millisecond
	}
	if c.NetMax == 0 {
		c.NetMin, c.NetMax = 2*time.Second, 6*time.Second
	}
}

// Result is the outcome of a run, written as summary.json on failure.
type Result struct {
	Seed        int64   `json:"seed"`
	Nodes       int     `json:"nodes"`
	Duration    string  `json:"duration"`
	Writers     int     `json:"writers"`
	Load        string  `json:"load"`
	Acked       int     `json:"acked"`
	Conflicts   int     `json:"conflicts"`
	Unknown     int     `json:"unknown"`
	Refused     int     `json:"refused"`
	Faults      []Fault `json:"faults"`
	Convergence string  `json:"convergence"`
	ConvergeMS  int64   `json:"convergence_ms"` // -1: not converged
	StalePolicy string  `json:"stale_policy"`
	// CutAnswers counts how the cut-off nodes answered past
	// max-stale+margin: fresh, stale, servfail, none.
	CutAnswers map[string]int `json:"cut_answers,omitempty"`
	Removed    string         `json:"removed,omitempty"`
	Violations []Violation    `json:"violations"`
	DNS        []DNSStats     `json:"dns"`
	Decreases  []Sample       `json:"dns_decreases,omitempty"`
	LogRange   []string       `json:"log_range"`
	Refusals   []Op           `json:"refusals,omitempty"`
	Notes      []string       `json:"notes,omitempty"`
	Elapsed    time.Duration  `json:"-"`
}

// Figures is the one-line summary of a run.
func (r *Result) Figures() string {
	s := fmt.Sprintf("FAULTS seed=%d nodes=%d duration=%s load=%s acked=%d conflicts=%d unknown=%d faults=%d convergence=%s violations=%d",
		r.Seed, r.Nodes, r.Duration, r.Load, r.Acked, r.Conflicts, r.Unknown, len(r.Faults), r.Convergence, len(r.Violations))
	s += fmt.Sprintf(" conv_ms=%d policy=%s kinds=%s", r.ConvergeMS, r.StalePolicy, r.kinds())
	if len(r.CutAnswers) > 0 {
		s += " cut_answers=" + countString(r.CutAnswers)
	}
	if r.Removed != "" {
		s += " removed=" + r.Removed
	}
	return s
}

func (r *Result) kinds() string {
	m := map[string]int{}
	for _, f := range r.Faults {
		m[f.Kind]++
	}
	return countString(m)
}

// countString is "a:1,b:2", keys sorted; "-" when empty.
func countString(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// Run starts a cluster, runs clients, observers and the nemesis for
// cfg.Duration, heals, checks, and returns what it found. Failures to set
// the run up fail t; violations are returned, not reported.
func Run(t testing.TB, cfg Config) *Result {
	t.Helper()
	cfg.defaults()
	root := t.TempDir()
	res := &Result{Seed: cfg.Seed, Nodes: cfg.Nodes, Duration: cfg.Duration.String(), Writers: cfg.Writers, Load: "none", StalePolicy: cfg.Stale.Policy}
	if cfg.BusyLoops > 0 || cfg.Dsync {
		res.Load = fmt.Sprintf("busy%d", cfg.BusyLoops)
		if cfg.Dsync {
			res.Load += "+dsync"
		}
	}
	logf := func(format string, a ...any) { t.Logf(format, a...) }
	var fw *Firewall
	if cfg.Net {
		var err error
		if fw, err = NewFirewall(); err != nil {
			t.Fatal(err)
		}
		// Runs also when the test fails or panics; the rules are
		// removed at every heal too.
		t.Cleanup(fw.RemoveAll)
	}

	// Nodes: n1 bootstraps, the others join through n1.
	var nodes []*Node
	var late *Node // started during the run with LateJoin
	t.Cleanup(func() {
		for _, n := range nodes {
			n.Stop(10 * time.Second)
		}
		if late != nil {
			late.Stop(10 * time.Second)
		}
	})
	for i := 1; i <= cfg.Nodes; i++ {
		n, err := NewNode(cfg.Bin, filepath.Join(root, fmt.Sprintf("n%d", i)), fmt.Sprintf("n%d", i))
		if err != nil {
			t.Fatal(err)
		}
		// The observers ask every node hundreds of times a second from
		// one address: response rate limiting would drop their answers.
		n.Base = []string{"--rrl-rate", "0", "--stale-policy", cfg.Stale.Policy,
			"--max-stale", cfg.Stale.MaxStale.String(), "--stale-ttl", cfg.Stale.StaleTTL.String()}
		if cfg.Net {
			n.GID = NodeGID(i)
		}
		if cfg.SnapshotThreshold > 0 {
			n.Base = append(n.Base, "--snapshot-threshold", fmt.Sprint(cfg.SnapshotThreshold))
		}
		if i == 1 {
			n.Args = []string{"--bootstrap"}
		} else {
			n.Args = []string{"--join", nodes[0].URL()}
		}
		if cfg.LateJoin && i == cfg.Nodes {
			late = n
			break
		}
		if err := n.Start(); err != nil {
			t.Fatal(err)
		}
		if err := n.WaitReady(30 * time.Second); err != nil {
			t.Fatalf("%v\n%s", err, n.LogTail(40))
		}
		n.Args = nil // a restart neither bootstraps nor joins again
		nodes = append(nodes, n)
	}
	var (
		activeMu sync.Mutex
		active   = append([]*Node(nil), nodes...)
	)
	members := func() []*Node {
		activeMu.Lock()
		defer activeMu.Unlock()
		return active
	}
	var services []string
	for i := 0; i < cfg.Services; i++ {
		services = append(services, fmt.Sprintf("svc%d.%s", i, Zone))
	}
	initial := map[string]uint64{}
	for _, s := range services {
		if err := retry(15*time.Second, func() error { return PutService(nodes[0], s) }); err != nil {
			t.Fatal(err)
		}
		v, err := readService(nodes[0], s, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		initial[s] = v.Revision
	}
	for _, n := range nodes {
		for _, s := range services {
			if err := retry(15*time.Second, func() error {
				rev, _, err := DNSRevision(n, s)
				if err == nil && rev < initial[s] {
					err = fmt.Errorf("%s answers revision %d for %s, want %d", n.ID, rev, s, initial[s])
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
	}

	start := time.Now()
	rec := NewRecorder(start)
	obs := NewObserver(rec)
	obsCtx, stopObs := context.WithCancel(context.Background())
	var obsWG sync.WaitGroup
	for _, n := range nodes {
		obs.Run(obsCtx, n, services, 3*time.Millisecond, &obsWG)
	}
	defer func() { stopObs(); obsWG.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Duration)
	defer cancel()
	var load *Load
	if res.Load != "none" {
		var err error
		if load, err = StartLoad(ctx, root, cfg.BusyLoops, cfg.Dsync); err != nil {
			t.Fatal(err)
		}
		defer load.Stop()
	}
	var gate *Gate
	if cfg.Quiesce {
		gate = NewGate()
	}
	writers := Writers(ctx, cfg.Writers, cfg.Seed, members, services, rec, cfg.RequestTimeout, cfg.Think, gate)
	nem := NewNemesis(cfg.Seed, append([]*Node(nil), nodes...), rec, logf)
	nem.Gate = gate
	nem.Firewall = fw
	nem.Channels = cfg.Channels
	var nemWG sync.WaitGroup
	if cfg.Net {
		nemWG.Add(1)
		go func() { defer nemWG.Done(); nem.NetFaults(ctx, cfg.NetMin, cfg.NetMax) }()
	}
	var removed *Node
	var removedAt int64
	var removeErr error
	if cfg.RemoveAt > 0 {
		nemWG.Add(1)
		go func() {
			defer nemWG.Done()
			sleepCtx(ctx, cfg.RemoveAt)
			if ctx.Err() != nil {
				return
			}
			cur := members()
			v := cur[int(cfg.Seed)%len(cur)]
			at := rec.now()
			logf("removing %s while writes go on", v.ID)
			if removeErr = retry(30*time.Second, func() error { return RemoveMember(without(cur, v), v.ID) }); removeErr != nil {
				return
			}
			removedAt = rec.now()
			t.Cleanup(func() { v.Stop(10 * time.Second) }) // no longer in nodes
			nem.add(Fault{Kind: "remove", Node: v.ID, At: at, Until: removedAt})
			activeMu.Lock()
			removed = v
			nodes = without(nodes, v)
			active = append([]*Node(nil), nodes...)
			activeMu.Unlock()
			nem.SetNodes(nodes)
			logf("%s removed after %v", v.ID, time.Duration(removedAt-at).Round(time.Millisecond))
		}()
	}
	if cfg.PauseMax > 0 {
		nemWG.Add(1)
		go func() { defer nemWG.Done(); nem.PauseLeader(ctx, cfg.PauseMin, cfg.PauseMax) }()
	}
	if cfg.KillMax > 0 {
		nemWG.Add(1)
		go func() { defer nemWG.Done(); nem.KillRestart(ctx, cfg.KillMin, cfg.KillMax) }()
	}
	var joinErr error
	if late != nil {
		nemWG.Add(1)
		go func() {
			defer nemWG.Done()
			sleepCtx(ctx, cfg.Duration/3)
			i := nem.add(Fault{Kind: "join", Node: late.ID, At: rec.now()})
			logf("joining %s while writes go on", late.ID)
			if joinErr = late.Start(); joinErr == nil {
				joinErr = late.WaitReady(60 * time.Second)
			}
			nem.healed(i)
			late.Args = nil
			activeMu.Lock()
			nodes = append(nodes, late)
			active = append([]*Node(nil), nodes...)
			activeMu.Unlock()
			obs.Run(obsCtx, late, services, 3*time.Millisecond, &obsWG)
			logf("%s joined: %v", late.ID, joinErr)
		}()
	}
	<-ctx.Done()
	nemWG.Wait()
	fw.RemoveAll()
	if removeErr != nil {
		res.Violations = append(res.Violations, Violation{Check: "remove", Message: fmt.Sprintf("the removal did not succeed: %v", removeErr)})
	}
	if joinErr != nil {
		res.Violations = append(res.Violations, Violation{Check: "join", Message: fmt.Sprintf("%s did not join: %v\n%s", late.ID, joinErr, late.LogTail(30))})
	}
	HealAll(nodes)
	for _, n := range nodes {
		if !n.Running() {
			_ = n.Start()
		}
	}
	for _, n := range nodes {
		if err := n.WaitReady(30 * time.Second); err != nil {
			logf("after heal: %v", err)
		}
	}
	load.Stop()
	writers.Wait()
	healed := time.Now()
	highest := map[string]uint64{}
	for _, op := range rec.Ops() {
		if op.Outcome == OK && op.Index > highest[op.Service] {
			highest[op.Service] = op.Index
		}
	}

	// Convergence: every node ready and answering the same revision of
	// every service.
	conv := retry(cfg.ConvergeTimeout, func() error {
		for _, s := range services {
			var want uint64
			for _, n := range nodes {
				rev, _, err := DNSRevision(n, s)
				if err != nil {
					return fmt.Errorf("%s: %s: %v", n.ID, s, err)
				}
				if rev < highest[s] {
					return fmt.Errorf("%s: %s answers revision %d, a write was acknowledged at %d", s, n.ID, rev, highest[s])
				}
				if want == 0 {
					want = rev
				} else if rev != want {
					return fmt.Errorf("%s: %s answers revision %d, %s answers %d", s, nodes[0].ID, want, n.ID, rev)
				}
			}
		}
		return nil
	})
	if conv != nil {
		res.Convergence = "none"
		res.ConvergeMS = -1
		res.Violations = append(res.Violations, Violation{Check: "convergence",
			Message: fmt.Sprintf("not converged %v after heal: %v", cfg.ConvergeTimeout, conv)})
	} else {
		took := time.Since(healed)
		res.Convergence = took.Round(time.Millisecond).String()
		res.ConvergeMS = took.Milliseconds()
	}
	if removed != nil {
		// Removed for good: started again on its data, it still must not
		// answer for our zones.
		removed.Kill9()
		if err := removed.Start(); err != nil {
			logf("restarting the removed %s: %v", removed.ID, err)
		}
		time.Sleep(cfg.Stale.MaxStale + cfg.Stale.Margin + time.Second)
		res.Removed = removed.ID
	}
	for _, n := range nodes {
		for _, s := range services {
			obs.CheckA(n, s)
		}
	}
	stopObs()
	obsWG.Wait()

	ops := rec.Ops()
	for _, op := range ops {
		switch op.Outcome {
		case OK:
			res.Acked++
		case Conflict:
			res.Conflicts++
		case Unknown:
			res.Unknown++
		case Refused:
			res.Refused++
			if len(res.Refusals) < 10 {
				res.Refusals = append(res.Refusals, op)
			}
		}
	}
	res.Faults = nem.Faults
	res.DNS = obs.Stats()
	sort.Slice(res.DNS, func(i, j int) bool { return res.DNS[i].Node < res.DNS[j].Node })
	res.Decreases = obs.Decreases
	end := rec.now()
	if cfg.Net {
		var v []Violation
		v, res.CutAnswers = CheckCutOff(obs.Answers, CutWindows(res.Faults, end), cfg.Stale)
		res.Violations = append(res.Violations, v...)
	}
	if cfg.Stale.Policy == "serve" {
		res.Violations = append(res.Violations, CheckStaleTTL(obs.Answers, cfg.Stale)...)
	}
	res.Violations = append(res.Violations, CheckFreshRevisions(obs.Answers, ops, cfg.Stale)...)
	if removed != nil {
		v, counts := CheckRemoved(obs.Answers, removed.ID, removedAt, cfg.Stale)
		res.Violations = append(res.Violations, v...)
		res.Removed += "(" + countString(counts) + ")"
		removed.Stop(10 * time.Second)
	}

	// A node that exited without the harness stopping it (a crash, or a
	// signal from outside the test) makes the run void: report it, and
	// check only what the remaining nodes can show.
	for _, n := range nodes {
		for _, u := range n.UnexpectedExits() {
			res.Violations = append(res.Violations, Violation{Check: "node-exit", Message: u + "\n" + n.LogTail(15)})
		}
	}
	// Histories, while the nodes still run.
	histories := map[string]map[string][]Record{}
	for _, n := range nodes {
		bySvc := map[string][]Record{}
		var errs []string
		for _, s := range services {
			h, err := History(n, s)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			bySvc[s] = h
		}
		if len(errs) > 0 {
			res.Violations = append(res.Violations, Violation{Check: "acked-writes",
				Message: fmt.Sprintf("%s: history not readable, its writes not checked: %s", n.ID, errs[0])})
			continue
		}
		histories[n.ID] = bySvc
	}
	// Each node's commit index, just before it stops: entries above it
	// may still be the uncommitted tail of a leader that was cut off.
	commits := map[string]uint64{}
	for _, n := range nodes {
		if c, err := n.CommitIndex(); err == nil {
			commits[n.ID] = c
		}
	}
	for _, n := range nodes {
		if cfg.KillAtEnd {
			n.Kill9()
		} else if !n.Stop(15 * time.Second) {
			logf("%s: no exit within 15s of SIGTERM; killed", n.ID)
		}
	}

	// (a) log matching
	var logs []NodeLog
	for _, n := range nodes {
		entries, first, last, err := ReadLog(n.DataDir)
		if err != nil {
			t.Errorf("reading %s's log: %v", n.ID, err)
			continue
		}
		logs = append(logs, NodeLog{Node: n.ID, First: first, Last: last, Entries: entries, Commit: commits[n.ID]})
		res.LogRange = append(res.LogRange, fmt.Sprintf("%s:%d..%d", n.ID, first, last))
	}
	lm, tails := CheckLogMatching(logs)
	res.Violations = append(res.Violations, lm...)
	if tails > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("log matching: %d indexes differ in term above a node's commit index (an uncommitted tail not yet overwritten)", tails))
	}
	// (b) acknowledged writes
	res.Violations = append(res.Violations, CheckAckedWrites(ops, histories)...)
	// (c) linearizability, unknowns resolved by the histories most nodes
	// agree on (only when a majority of histories could be read)
	art := filepath.Join(cfg.OutDir, sanitize(t.Name()))
	if len(histories)*2 > len(nodes) {
		// A history cut at its maximum length cannot say whether an
		// unknown write older than its first record took effect; such a
		// service is left out of this check.
		full := map[string]bool{}
		for _, bySvc := range histories {
			for s, recs := range bySvc {
				if len(recs) >= 1000 {
					full[s] = true
				}
			}
		}
		var checked []Op
		for _, op := range ops {
			if !full[op.Service] {
				checked = append(checked, op)
			}
		}
		for s := range full {
			res.Notes = append(res.Notes, fmt.Sprintf("the history of %s reached its maximum length: not checked for linearizability", s))
		}
		_ = os.MkdirAll(art, 0o755)
		res.Violations = append(res.Violations,
			CheckLinearizable(checked, appliedByMajority(histories), initial, time.Minute, filepath.Join(art, "linearizability.html"))...)
	}
	for _, n := range res.Notes {
		logf("note: %s", n)
	}
	// (d) DNS revisions never go back on one node
	if len(obs.Decreases) > 0 {
		d := obs.Decreases[0]
		res.Violations = append(res.Violations, Violation{Check: "dns-monotonic",
			Message: fmt.Sprintf("%d answers went back; first: %s answered revision %d for %s at %v after a higher one",
				len(obs.Decreases), d.Node, d.Revision, d.Service, time.Duration(d.At).Round(time.Millisecond))})
	}
	if res.Refused > 0 {
		res.Violations = append(res.Violations, Violation{Check: "client", Message: fmt.Sprintf("%d writes refused with a 4xx other than 409; first: %+v", res.Refused, res.Refusals[0])})
	}
	res.Elapsed = time.Since(start)
	if len(res.Violations) == 0 && !cfg.Keep {
		_ = os.Remove(art) // only when empty
	}

	if len(res.Violations) > 0 || cfg.Keep {
		if err := os.MkdirAll(art, 0o755); err == nil {
			logf("violations: %d; artefacts in %s", len(res.Violations), art)
			writeJSON(filepath.Join(art, "summary.json"), res)
			writeJSON(filepath.Join(art, "ops.json"), ops)
			writeJSON(filepath.Join(art, "dns-changes.json"), obs.Changes)
			for _, n := range nodes {
				if err := copyDir(n.Dir, filepath.Join(art, n.ID)); err != nil {
					logf("copying %s: %v", n.Dir, err)
				}
			}
			logf("artefacts of the failed run: %s (data dirs were under %s)", art, root)
		}
	}
	return res
}

// appliedByMajority maps each request id to the index most nodes' histories
// give it.
func appliedByMajority(h map[string]map[string][]Record) map[string]uint64 {
	votes := map[string]map[uint64]int{}
	for _, bySvc := range h {
		for _, recs := range bySvc {
			for _, r := range recs {
				if r.RequestID == "" {
					continue
				}
				if votes[r.RequestID] == nil {
					votes[r.RequestID] = map[uint64]int{}
				}
				votes[r.RequestID][r.Index]++
			}
		}
	}
	out := map[string]uint64{}
	for id, m := range votes {
		best, n := uint64(0), 0
		for idx, v := range m {
			if v > n || (v == n && idx < best) {
				best, n = idx, v
			}
		}
		out[id] = best
	}
	return out
}

func retry(timeout time.Duration, f func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

func writeJSON(path string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil {
		_ = os.WriteFile(path, b, 0o644)
	}
}

// copyDir copies the regular files under src to dst.
func copyDir(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
