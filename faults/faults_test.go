package faults

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	flagSeed     = flag.Int64("seed", 0, "run this one seed (overrides -seeds)")
	flagSeeds    = flag.String("seeds", "", `seeds to run: "1-20", "3,7,9" (env FAULTS_SEEDS); default 1-2`)
	flagDuration = flag.Duration("duration", 0, "how long each run injects faults (env FAULTS_DURATION); default 25s")
	flagLoad     = flag.Bool("load", false, "CPU busy loops and a dd oflag=dsync writer beside the nodes (env FAULTS_LOAD=1)")
	flagWriters  = flag.Int("writers", 0, "concurrent clients (env FAULTS_WRITERS); default 24")
	flagThink    = flag.Duration("think", 0, "longest pause of a client between writes (env FAULTS_THINK); default none")
	flagQuiesce  = flag.Bool("quiesce", true, "hold writes back just before each pause, so the leader stops idle (env FAULTS_QUIESCE=0 turns it off)")
	flagBusy     = flag.Int("busy", 0, "CPU busy loops with -load (env FAULTS_BUSY); default 2")
	flagKeep     = flag.Bool("keep", false, "leave the artefacts of runs that pass too (env FAULTS_KEEP=1)")
	flagOut      = flag.String("out", "", "where failed runs leave their artefacts (env FAULTS_OUT); default faults/out")
	flagPolicy   = flag.String("stale-policy", "", "the nodes' --stale-policy in the network runs: serve or servfail (env FAULTS_STALE_POLICY); default serve")
)

var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "bgdns-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
	binPath, err = BuildBinary("..", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// SIGINT or SIGTERM (a ^C, a CI timeout): no iptables rule of this
	// process may outlive it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		if bin, err := IptablesPath(); err == nil {
			sweep(bin, func(tag string) bool { return tag == Tag() })
		}
		os.RemoveAll(dir)
		fmt.Fprintf(os.Stderr, "faults: %v: rules removed\n", s)
		os.Exit(1)
	}()
	code := m.Run()
	if bin, err := IptablesPath(); err == nil {
		sweep(bin, func(tag string) bool { return tag == Tag() })
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// requireFaults skips under -short, and checks the tools a run needs: a
// missing one fails the test when CI is set and skips it otherwise.
func requireFaults(t *testing.T, tools ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("fault test: skipped with -short")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := fmt.Sprintf("%s not found on PATH (it comes with coreutils and a POSIX sh)", tool)
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

func seeds(t *testing.T) []int64 {
	if *flagSeed != 0 {
		return []int64{*flagSeed}
	}
	spec := *flagSeeds
	if spec == "" {
		spec = os.Getenv("FAULTS_SEEDS")
	}
	if spec == "" {
		spec = "1-2"
	}
	out, err := parseSeeds(spec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// parseSeeds reads "1-20", "3,7,9" or a mix such as "1-3,10".
func parseSeeds(spec string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seeds %q: %v", spec, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("seeds %q: bad range %q", spec, part)
			}
		}
		for s := a; s <= b; s++ {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("seeds %q: none", spec)
	}
	return out, nil
}

func duration(t *testing.T) time.Duration {
	if *flagDuration > 0 {
		return *flagDuration
	}
	if s := os.Getenv("FAULTS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("FAULTS_DURATION=%q: %v", s, err)
		}
		return d
	}
	return 25 * time.Second
}

func withLoad() bool { return *flagLoad || os.Getenv("FAULTS_LOAD") == "1" }

func writers(t *testing.T) int {
	if *flagWriters > 0 {
		return *flagWriters
	}
	if s := os.Getenv("FAULTS_WRITERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("FAULTS_WRITERS=%q is not a positive number", s)
		}
		return n
	}
	return 24
}

func busyLoops(t *testing.T) int {
	if *flagBusy > 0 {
		return *flagBusy
	}
	if s := os.Getenv("FAULTS_BUSY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("FAULTS_BUSY=%q is not a number", s)
		}
		return n
	}
	return 2
}

func think(t *testing.T) time.Duration {
	if *flagThink > 0 {
		return *flagThink
	}
	if s := os.Getenv("FAULTS_THINK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("FAULTS_THINK=%q: %v", s, err)
		}
		return d
	}
	return 0
}

func outDir() string {
	if *flagOut != "" {
		return *flagOut
	}
	if s := os.Getenv("FAULTS_OUT"); s != "" {
		return s
	}
	d, _ := filepath.Abs("out")
	return d
}

// pausedLeader runs the paused-leader nemesis once per seed: the leader is
// stopped with SIGSTOP for 2 to 6 seconds while writes flow, then resumed,
// over and over.
func pausedLeader(t *testing.T, nodes int) {
	tools := []string{"sh"}
	if withLoad() {
		tools = append(tools, "dd")
	}
	requireFaults(t, tools...)
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			cfg := Config{
				Bin: binPath, Nodes: nodes, Seed: seed, Duration: duration(t), Writers: writers(t), Think: think(t),
				Quiesce:  *flagQuiesce && os.Getenv("FAULTS_QUIESCE") != "0",
				PauseMin: 2 * time.Second, PauseMax: 6 * time.Second, OutDir: outDir(), Keep: *flagKeep || os.Getenv("FAULTS_KEEP") == "1",
				// the whole log stays for the log check
				SnapshotThreshold: 1 << 30, KillAtEnd: true,
			}
			load := ""
			if withLoad() {
				cfg.BusyLoops, cfg.Dsync = busyLoops(t), true
				load = fmt.Sprintf(" -load -busy %d", cfg.BusyLoops)
			}
			if cfg.Think > 0 {
				load += " -think " + cfg.Think.String()
			}
			if !cfg.Quiesce {
				load += " -quiesce=false"
			}
			t.Logf("seed %d: go test ./faults/ -count=1 -run '%s' -args -seed %d -duration %v -writers %d%s",
				seed, strings.Split(t.Name(), "/")[0], seed, cfg.Duration, cfg.Writers, load)
			report(t, Run(t, cfg))
		})
	}
}

func TestPausedLeader3(t *testing.T) { pausedLeader(t, 3) }

func TestPausedLeader5(t *testing.T) { pausedLeader(t, 5) }

func TestParseSeeds(t *testing.T) {
	got, err := parseSeeds("1-3,10")
	if err != nil || fmt.Sprint(got) != "[1 2 3 10]" {
		t.Fatalf("parseSeeds: %v %v", got, err)
	}
	if _, err := parseSeeds("5-2"); err == nil {
		t.Fatal("parseSeeds accepted 5-2")
	}
}

// killRestart kills nodes with SIGKILL (a random one, the leader, or all of
// them) and restarts them on the same data, over and over, while writes go on.
func killRestart(t *testing.T, nodes int) {
	requireFaults(t, "sh")
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			cfg := Config{
				Bin: binPath, Nodes: nodes, Seed: seed, Duration: duration(t), Writers: writers(t),
				KillMin: 500 * time.Millisecond, KillMax: 4 * time.Second, OutDir: outDir(),
				Keep: *flagKeep || os.Getenv("FAULTS_KEEP") == "1",
				// writes are faster without pauses: more services keep
				// each history under its maximum length
				Services: 8,
			}
			t.Logf("seed %d: go test ./faults/ -count=1 -run '%s' -args -seed %d -duration %v -writers %d",
				seed, strings.Split(t.Name(), "/")[0], seed, cfg.Duration, cfg.Writers)
			report(t, Run(t, cfg))
		})
	}
}

func TestKillRestart3(t *testing.T) { killRestart(t, 3) }

// TestJoinUnderWrites starts two nodes, lets writes flow, and joins a third
// a third of the way into the run.
func TestJoinUnderWrites(t *testing.T) {
	requireFaults(t, "sh")
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			cfg := Config{
				Bin: binPath, Nodes: 3, Seed: seed, Duration: duration(t), Writers: writers(t),
				LateJoin: true, OutDir: outDir(), Services: 8, Keep: *flagKeep || os.Getenv("FAULTS_KEEP") == "1",
			}
			t.Logf("seed %d: go test ./faults/ -count=1 -run '%s' -args -seed %d -duration %v -writers %d",
				seed, strings.Split(t.Name(), "/")[0], seed, cfg.Duration, cfg.Writers)
			report(t, Run(t, cfg))
		})
	}
}

func report(t *testing.T, res *Result) {
	t.Helper()
	fmt.Println(res.Figures())
	t.Log(res.Figures())
	// go test shows a passing package's output only with -v: the figures
	// also go to a file that make prints.
	if err := os.MkdirAll(outDir(), 0o755); err == nil {
		if f, err := os.OpenFile(filepath.Join(outDir(), "figures.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintf(f, "%s %s\n", t.Name(), res.Figures())
			f.Close()
		}
	}
	for _, v := range res.Violations {
		t.Errorf("seed %d: %s", res.Seed, v)
	}
}

func stalePolicy(t *testing.T) string {
	p := *flagPolicy
	if p == "" {
		p = os.Getenv("FAULTS_STALE_POLICY")
	}
	switch p {
	case "":
		return "serve"
	case "serve", "servfail":
		return p
	}
	t.Fatalf("stale policy %q: want serve or servfail", p)
	return ""
}

// requireNet checks what the network faults need: root and a working
// iptables. Without them the test fails when CI is set and skips otherwise.
func requireNet(t *testing.T) {
	t.Helper()
	requireFaults(t, "sh")
	if _, err := NewFirewall(); err != nil {
		msg := fmt.Sprintf("network faults: %v (scripts/install-test-deps.sh installs iptables; run as root)", err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// network runs the network nemesis (partitions and packet loss) once per
// seed, with the stale policy given (-stale-policy) or policy when set;
// remove, when set, removes a node that far into the run.
func network(t *testing.T, nodes int, policy string, remove float64) {
	networkRun(t, nodes, policy, remove, false)
}

func networkRun(t *testing.T, nodes int, policy string, remove float64, channels bool) {
	requireNet(t)
	if policy == "" {
		policy = stalePolicy(t)
	}
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			cfg := Config{
				Bin: binPath, Nodes: nodes, Seed: seed, Duration: duration(t), Writers: writers(t), Think: think(t),
				Net: true, NetMin: 2 * time.Second, NetMax: 5 * time.Second, Channels: channels,
				// SIGTERM under partitions often takes longer than 15 s
				KillAtEnd: true,
				Stale:     StaleRules{Policy: policy},
				Services:  8, OutDir: outDir(), Keep: *flagKeep || os.Getenv("FAULTS_KEEP") == "1",
			}
			if remove > 0 {
				cfg.RemoveAt = time.Duration(remove * float64(cfg.Duration))
			}
			extra := ""
			if withLoad() {
				cfg.BusyLoops, cfg.Dsync = busyLoops(t), true
				extra = fmt.Sprintf(" -load -busy %d", cfg.BusyLoops)
			}
			t.Logf("seed %d: go test ./faults/ -count=1 -run '%s' -args -seed %d -duration %v -writers %d -stale-policy %s%s",
				seed, strings.Split(t.Name(), "/")[0], seed, cfg.Duration, cfg.Writers, policy, extra)
			report(t, Run(t, cfg))
		})
	}
}

// TestPartitions3: one node, the leader, or (on 5 nodes) a minority cut
// off from the others, and packet loss on one node's raft traffic, over
// and over while writes go on; the stale policy from -stale-policy.
func TestPartitions3(t *testing.T) { network(t, 3, "", 0) }

func TestPartitions5(t *testing.T) { network(t, 5, "", 0) }

// TestPartitionsServfail3 is TestPartitions3 with --stale-policy servfail.
func TestPartitionsServfail3(t *testing.T) { network(t, 3, "servfail", 0) }

// TestRemoveUnderWrites: 4 nodes under the network nemesis; half way
// through, one is removed, and it must stop answering for good.
func TestRemoveUnderWrites(t *testing.T) { network(t, 4, "", 0.5) }

// TestChannelCuts3 cuts one channel of a node at a time: its raft traffic
// (a node, or the leader) while its API still reaches the others, or its
// API traffic while raft flows.
func TestChannelCuts3(t *testing.T) { networkRun(t, 3, "", 0, true) }
