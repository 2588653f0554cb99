package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bgdns/bgdns/bench/dataset"
)

// config is the benchmark's knobs; each flag defaults to a BENCH_* variable.
type config struct {
	seconds     int
	rounds      int
	rate        int
	maxClients  int
	maxOutstand int
	services    int
	aaaa        int
	queries     int
	bigServices int
	bigWorkers  int
	bigTimeout  time.Duration
	bigSnapWait time.Duration
	switchRate  int
	servers     []string
	bin         string
	baseBin     string
	out         string
	serverCPU   int
	clientCPU   int
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func parseConfig() config {
	var c config
	var servers string
	flag.IntVar(&c.seconds, "seconds", envInt("BENCH_SECONDS", 10), "duration of each dnsperf run (BENCH_SECONDS)")
	flag.IntVar(&c.rounds, "rounds", envInt("BENCH_ROUNDS", 3), "alternating rounds over all servers (BENCH_ROUNDS)")
	flag.IntVar(&c.rate, "rate", envInt("BENCH_RATE", 20000), "fixed query rate for latency and CPU (BENCH_RATE)")
	flag.IntVar(&c.maxClients, "clients", envInt("BENCH_CLIENTS", 4), "dnsperf -c for the max-qps run")
	flag.IntVar(&c.maxOutstand, "outstanding", envInt("BENCH_OUTSTANDING", 500), "dnsperf -q for the max-qps run")
	flag.IntVar(&c.services, "services", envInt("BENCH_SERVICES", 1000), "services in the zone")
	flag.IntVar(&c.aaaa, "aaaa", envInt("BENCH_AAAA", 200), "services that also have AAAA")
	flag.IntVar(&c.queries, "queries", envInt("BENCH_QUERIES", 100000), "lines in the dnsperf query file")
	flag.IntVar(&c.bigServices, "big", envInt("BENCH_BIG_SERVICES", 100000), "services for the memory and restart test; 0 skips it (BENCH_BIG_SERVICES)")
	flag.IntVar(&c.bigWorkers, "big-workers", envInt("BENCH_BIG_WORKERS", 32), "REST requests in flight while loading")
	bigTimeout := flag.Int("big-timeout", envInt("BENCH_BIG_TIMEOUT", 600), "seconds allowed to load the big data set")
	snapWait := flag.Int("big-snapshot-wait", envInt("BENCH_BIG_SNAPSHOT_WAIT", 260), "seconds to wait for a Raft snapshot before a second restart; 0 skips it")
	flag.IntVar(&c.switchRate, "switch-rate", envInt("BENCH_SWITCH_RATE", 50), "switches per second during the storm")
	flag.StringVar(&servers, "servers", envStr("BENCH_SERVERS", "bgdns,nsd,knot"), "servers to compare (BENCH_SERVERS)")
	flag.StringVar(&c.bin, "bgdns", envStr("BGDNS_BIN", "bin/bgdns"), "bgdns binary")
	flag.StringVar(&c.baseBin, "bgdns-base", envStr("BENCH_BGDNS_BASE", ""), "a second bgdns binary measured as \"bgdns-base\" in the same rounds, for before/after comparisons (BENCH_BGDNS_BASE)")
	flag.StringVar(&c.out, "out", envStr("BENCH_OUT", "bench/out"), "output directory")
	flag.IntVar(&c.serverCPU, "server-cpu", envInt("BENCH_SERVER_CPU", 1), "CPU the servers are pinned to")
	flag.IntVar(&c.clientCPU, "client-cpu", envInt("BENCH_CLIENT_CPU", 0), "CPU dnsperf is pinned to")
	flag.IntVar(&niceness, "nice", envInt("BENCH_NICE", -10), "nice level of servers and dnsperf (BENCH_NICE)")
	flag.Parse()
	c.bigTimeout = time.Duration(*bigTimeout) * time.Second
	c.bigSnapWait = time.Duration(*snapWait) * time.Second
	for _, s := range strings.Split(servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.servers = append(c.servers, s)
		}
	}
	if c.baseBin != "" && !contains(c.servers, "bgdns-base") {
		c.servers = append([]string{"bgdns-base"}, c.servers...)
	}
	return c
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %s] %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func main() {
	c := parseConfig()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		logf("error: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "bgdns-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// dnsperf's per-query output goes to memory when it can, so that disk
	// writeback never shows up as latency.
	perfDir := tmp
	if d, err := os.MkdirTemp("/dev/shm", "bgdns-bench-"); err == nil {
		perfDir = d
		defer os.RemoveAll(d)
	}

	set := dataset.Generate(dataset.DefaultZone, c.services, c.aaaa)
	dataDir := filepath.Join(c.out, "data")
	zoneFile, queryFile, err := writeData(dataDir, set, c.queries)
	if err != nil {
		return err
	}
	rep := newReport(c)

	servers := startServers(ctx, c, tmp, set, zoneFile, rep)
	defer stopAll(servers)
	if len(servers) == 0 {
		return fmt.Errorf("no server could be started")
	}
	for _, s := range servers {
		rep.server(s.name).Answers = map[string]string{
			"A":        shape(s.port, set.Services[1].Name, 1),
			"AAAA":     shape(s.port, set.Services[0].Name, 28),
			"NXDOMAIN": shape(s.port, "nx1."+set.Zone, 1),
		}
	}
	measureRounds(ctx, c, perfDir, queryFile, set, servers, rep)
	for _, s := range servers {
		rep.server(s.name).RSSMiB = float64(rssBytes(s.proc.pid())) / (1 << 20)
	}
	stopAll(servers)
	servers = nil

	if c.bigServices > 0 && contains(c.servers, "bgdns") && ctx.Err() == nil {
		rep.Big = measureBig(ctx, c, tmp)
	}
	rep.finish()
	fmt.Print(rep.table())
	return rep.write(c.out)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func writeData(dir string, set *dataset.Set, nq int) (zoneFile, queryFile string, err error) {
	if err = os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	zoneFile, err = filepath.Abs(filepath.Join(dir, "zone.db"))
	if err != nil {
		return
	}
	queryFile, err = filepath.Abs(filepath.Join(dir, "queries.txt"))
	if err != nil {
		return
	}
	zf, err := os.Create(zoneFile)
	if err != nil {
		return
	}
	if err = set.WriteZoneFile(zf, 1); err != nil {
		zf.Close()
		return
	}
	if err = zf.Close(); err != nil {
		return
	}
	qf, err := os.Create(queryFile)
	if err != nil {
		return
	}
	if err = dataset.WriteQueries(qf, set.Queries(nq, 1)); err != nil {
		qf.Close()
		return
	}
	err = qf.Close()
	return
}
