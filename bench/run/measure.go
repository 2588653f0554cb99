package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bgdns/bgdns/bench/dataset"
	"github.com/miekg/dns"
)

// startServers starts and loads every configured server. A server that
// fails to start is reported and left out; the others still run.
func startServers(ctx context.Context, c config, tmp string, set *dataset.Set, zoneFile string, rep *report) []*server {
	var out []*server
	for _, name := range c.servers {
		start := time.Now()
		s, err := startOne(ctx, c, tmp, name, set, zoneFile)
		if err != nil {
			logf("%s: %v", name, err)
			rep.server(name).Error = err.Error()
			if s != nil {
				stopAll([]*server{s})
			}
			continue
		}
		logf("%s ready on 127.0.0.1:%d in %s", name, s.port, time.Since(start).Round(time.Millisecond))
		out = append(out, s)
	}
	return out
}

func startOne(ctx context.Context, c config, tmp, name string, set *dataset.Set, zoneFile string) (*server, error) {
	dir := filepath.Join(tmp, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	last := set.Services[len(set.Services)-1].Name
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var (
		s   *server
		err error
	)
	switch name {
	case "nsd":
		s, err = startNSD(dir, set.Zone, zoneFile, c.serverCPU)
	case "knot":
		s, err = startKnot(dir, set.Zone, zoneFile, c.serverCPU)
	case "bgdns", "bgdns-base":
		ports, perr := newBgdnsPorts()
		if perr != nil {
			return nil, perr
		}
		bin := c.bin
		if name == "bgdns-base" {
			bin = c.baseBin
		}
		s, err = startBgdns(bin, filepath.Join(dir, "data"), filepath.Join(dir, "bgdns.log"), set.Zone, ports, c.serverCPU)
		if s != nil {
			s.name = name
		}
		if err == nil {
			if err = waitFor(wctx, "bgdns /readyz", func() bool { return s.proc.exited() || ready(s.httpURL) }); err == nil && s.proc.exited() {
				err = fmt.Errorf("bgdns exited: %v\n%s", s.proc.err, s.proc.tail())
			}
			if err == nil {
				t0 := time.Now()
				err = loadSet(wctx, s.httpURL, set, 8)
				logf("%s: loaded %d services through the API in %s", name, len(set.Services), time.Since(t0).Round(time.Millisecond))
			}
		}
	default:
		return nil, fmt.Errorf("unknown server %q", name)
	}
	if err != nil {
		return s, err
	}
	if err := waitFor(wctx, name+" answering "+last, func() bool { return s.proc.exited() || answers(s.port, last, dns.TypeA) }); err != nil {
		return s, fmt.Errorf("%w\n%s", err, s.proc.tail())
	}
	if s.proc.exited() {
		return s, fmt.Errorf("%s exited: %v\n%s", name, s.proc.err, s.proc.tail())
	}
	// Knot pins its UDP workers to CPUs itself; move every thread back.
	if err := repin(ctx, s.proc.pid(), c.serverCPU); err != nil {
		return s, err
	}
	if !affinityOK(s.proc.pid(), c.serverCPU) {
		return s, fmt.Errorf("%s: threads not pinned to CPU %d", name, c.serverCPU)
	}
	return s, nil
}

// measureRounds runs the alternating rounds: for each round, each server
// gets a max-qps run and a fixed-rate run (latency, CPU); bgdns also gets a
// fixed-rate run during a switch storm.
func measureRounds(ctx context.Context, c config, tmp, queryFile string, set *dataset.Set, servers []*server, rep *report) {
	for _, s := range servers { // warm-up, not recorded
		_, _ = runPerf(ctx, perfRun{port: s.port, queries: queryFile, seconds: 2, cpu: c.clientCPU,
			extra: []string{"-c", "4", "-q", "100"}, outPath: filepath.Join(tmp, s.name+"-warmup.txt")})
	}
	flips := 0 // the switch storm's round robin position
	for round := 1; round <= c.rounds && ctx.Err() == nil; round++ {
		for _, s := range servers {
			if ctx.Err() != nil {
				return
			}
			sr := rep.server(s.name)
			base := filepath.Join(tmp, fmt.Sprintf("%s-r%d", s.name, round))
			mx, err := runOn(ctx, c, s, perfRun{port: s.port, queries: queryFile, seconds: c.seconds, cpu: c.clientCPU,
				extra:   []string{"-c", strconv.Itoa(c.maxClients), "-q", strconv.Itoa(c.maxOutstand)},
				outPath: base + "-max.txt"})
			if err != nil {
				logf("%s round %d max: %v", s.name, round, err)
			} else {
				sr.Max = append(sr.Max, mx)
				logf("%s round %d: %.0f qps, %d lost (other load on server CPU %.0f%%)", s.name, round, mx.QPS, mx.Lost, 100*mx.OtherLoad)
			}
			fx, err := fixedRun(ctx, c, s, queryFile, base+"-fixed.txt")
			if err != nil {
				logf("%s round %d fixed: %v", s.name, round, err)
			} else {
				sr.Fixed = append(sr.Fixed, fx)
				logf("%s round %d at %d qps: p50 %.0f p99 %.0f p99.9 %.0f us, %.2f us CPU/query, %d lost (other load %.0f%%)",
					s.name, round, c.rate, fx.P50, fx.P99, fx.P999, fx.CPUPerQueryUS, fx.Lost, 100*fx.OtherLoad)
			}
			if s.name == "bgdns" && c.switchRate > 0 {
				sctx, cancel := context.WithCancel(ctx)
				done := make(chan stormResult, 1)
				go func() { done <- switchStorm(sctx, s.httpURL, set, c.switchRate, &flips) }()
				st, err := fixedRun(ctx, c, s, queryFile, base+"-storm.txt")
				cancel()
				storm := <-done
				if err != nil {
					logf("bgdns round %d storm: %v", round, err)
					continue
				}
				rep.Storm.Runs = append(rep.Storm.Runs, st)
				rep.Storm.Switches = append(rep.Storm.Switches, storm)
				logf("bgdns round %d during %d switches/s: p99 %.0f us (%d switches ok, %d failed)",
					round, c.switchRate, st.P99, storm.OK, storm.Failed)
			}
		}
	}
}

// fixedRun is a dnsperf run at the fixed rate with per-query latencies.
func fixedRun(ctx context.Context, c config, s *server, queryFile, out string) (perfResult, error) {
	return runOn(ctx, c, s, perfRun{port: s.port, queries: queryFile, seconds: c.seconds, cpu: c.clientCPU,
		extra: []string{"-Q", strconv.Itoa(c.rate)}, verbose: true, outPath: out})
}

// runOn runs r against s, reading the server's CPU time and the server
// CPU's total load before and after: CPU per query, and how much of that
// CPU other processes took meanwhile.
func runOn(ctx context.Context, c config, s *server, r perfRun) (perfResult, error) {
	busy0, total0 := cpuBusy(c.serverCPU)
	cpu0 := cpuTime(s.proc.pid())
	res, err := runPerf(ctx, r)
	cpu := cpuTime(s.proc.pid()) - cpu0
	busy1, total1 := cpuBusy(c.serverCPU)
	if err == nil && res.Completed > 0 {
		res.CPUPerQueryUS = float64(cpu.Microseconds()) / float64(res.Completed)
	}
	if total1 > total0 {
		other := float64(busy1-busy0) - cpu.Seconds()*clockTicks
		res.OtherLoad = max(0, other/float64(total1-total0))
	}
	return res, err
}

// bigResult is the memory and restart test with many services.
type bigResult struct {
	Services       int     `json:"services"`
	Loaded         int     `json:"loaded"`
	LoadSeconds    float64 `json:"load_seconds"`
	LoadPerSecond  float64 `json:"load_per_second"`
	RSSMiB         float64 `json:"rss_mib_after_load"`
	RestartReadyS  float64 `json:"restart_to_readyz_seconds"`
	RestartDNSS    float64 `json:"restart_to_dns_seconds"`
	RSSRestartMiB  float64 `json:"rss_mib_after_restart"`
	Error          string  `json:"error,omitempty"`
	FirstStartRSS  float64 `json:"rss_mib_empty"`
	ServiceSampled string  `json:"service_checked"`
	// After a Raft snapshot exists (waited for up to BENCH_BIG_SNAPSHOT_WAIT):
	// a restart restores the snapshot instead of replaying the whole log.
	SnapshotWaitS     float64 `json:"snapshot_wait_seconds,omitempty"`
	SnapRestartReadyS float64 `json:"snapshot_restart_to_readyz_seconds,omitempty"`
	SnapRestartDNSS   float64 `json:"snapshot_restart_to_dns_seconds,omitempty"`
	SnapRestartRSSMiB float64 `json:"snapshot_restart_rss_mib,omitempty"`
	SnapshotNote      string  `json:"snapshot_note,omitempty"`
}

// measureBig loads c.bigServices services into a fresh bgdns, reads its
// resident memory, restarts it and times the way back to /readyz and to
// answering DNS.
func measureBig(ctx context.Context, c config, tmp string) *bigResult {
	res := &bigResult{Services: c.bigServices}
	set := dataset.Generate(dataset.DefaultZone, c.bigServices, c.bigServices/5)
	last := set.Services[len(set.Services)-1].Name
	res.ServiceSampled = last
	dir := filepath.Join(tmp, "big")
	ports, err := newBgdnsPorts()
	if err != nil {
		res.Error = err.Error()
		return res
	}
	s, err := startBgdns(c.bin, filepath.Join(dir, "data"), filepath.Join(tmp, "big-1.log"), set.Zone, ports, c.serverCPU)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer func() { stopAll([]*server{s}) }()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitFor(wctx, "bgdns /readyz", func() bool { return s.proc.exited() || ready(s.httpURL) }); err != nil || s.proc.exited() {
		res.Error = fmt.Sprintf("start: %v\n%s", err, s.proc.tail())
		return res
	}
	res.FirstStartRSS = float64(rssBytes(s.proc.pid())) / (1 << 20)
	lctx, lcancel := context.WithTimeout(ctx, c.bigTimeout)
	defer lcancel()
	logf("big: loading %d services with %d requests in flight", c.bigServices, c.bigWorkers)
	t0 := time.Now()
	err = loadSet(lctx, s.httpURL, set, c.bigWorkers)
	res.LoadSeconds = time.Since(t0).Seconds()
	if err != nil {
		res.Error = "load: " + err.Error()
		return res
	}
	res.Loaded = c.bigServices
	res.LoadPerSecond = float64(res.Loaded) / res.LoadSeconds
	if err := waitFor(wctx, "bgdns answering "+last, func() bool { return answers(s.port, last, dns.TypeA) }); err != nil {
		res.Error = err.Error()
		return res
	}
	res.RSSMiB = float64(rssBytes(s.proc.pid())) / (1 << 20)
	logf("big: %d services loaded in %.1fs, RSS %.0f MiB", res.Loaded, res.LoadSeconds, res.RSSMiB)
	dataDir := filepath.Join(dir, "data")
	restart := func(logName string) (readyS, dnsS, rss float64, err error) {
		if err := s.proc.stop(30 * time.Second); err != nil {
			return 0, 0, 0, err
		}
		t0 := time.Now()
		s, err = startBgdns(c.bin, dataDir, filepath.Join(tmp, logName), set.Zone, ports, c.serverCPU)
		if err != nil {
			return 0, 0, 0, err
		}
		rctx, rcancel := context.WithTimeout(ctx, 120*time.Second)
		defer rcancel()
		if err := waitFor(rctx, "bgdns /readyz after restart", func() bool { return s.proc.exited() || ready(s.httpURL) }); err != nil || s.proc.exited() {
			return 0, 0, 0, fmt.Errorf("restart: %v\n%s", err, s.proc.tail())
		}
		readyS = time.Since(t0).Seconds()
		if err := waitFor(rctx, "bgdns answering after restart", func() bool { return answers(s.port, last, dns.TypeA) }); err != nil {
			return 0, 0, 0, err
		}
		return readyS, time.Since(t0).Seconds(), float64(rssBytes(s.proc.pid())) / (1 << 20), nil
	}
	if res.RestartReadyS, res.RestartDNSS, res.RSSRestartMiB, err = restart("big-2.log"); err != nil {
		res.Error = err.Error()
		return res
	}
	logf("big: restart to /readyz %.2fs, to DNS %.2fs, RSS %.0f MiB", res.RestartReadyS, res.RestartDNSS, res.RSSRestartMiB)
	if c.bigSnapWait <= 0 {
		return res
	}
	// Raft snapshots are taken on their own schedule; wait for one, then
	// restart again.
	logf("big: waiting up to %s for a Raft snapshot", c.bigSnapWait)
	t0 = time.Now()
	sctx, scancel := context.WithTimeout(ctx, c.bigSnapWait)
	defer scancel()
	if err := waitFor(sctx, "a snapshot", func() bool { return hasSnapshot(dataDir) }); err != nil {
		res.SnapshotNote = fmt.Sprintf("no snapshot within %s", c.bigSnapWait)
		return res
	}
	res.SnapshotWaitS = time.Since(t0).Seconds()
	if res.SnapRestartReadyS, res.SnapRestartDNSS, res.SnapRestartRSSMiB, err = restart("big-3.log"); err != nil {
		res.SnapshotNote = err.Error()
		return res
	}
	logf("big: with a snapshot, restart to /readyz %.2fs, to DNS %.2fs, RSS %.0f MiB", res.SnapRestartReadyS, res.SnapRestartDNSS, res.SnapRestartRSSMiB)
	return res
}

// hasSnapshot reports whether a completed Raft file snapshot (its
// meta.json) exists under dir.
func hasSnapshot(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "meta.json" && !strings.HasSuffix(filepath.Dir(path), ".tmp") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
