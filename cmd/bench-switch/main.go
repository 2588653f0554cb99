package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const (
	zone    = "bench.test."
	service = "api.bench.test."
)

var (
	blueAddr  = netip.MustParseAddr("10.0.0.11")
	greenAddr = netip.MustParseAddr("10.0.0.21")
)

func main() {
	var (
		bin      = flag.String("bin", "bin/bgdns", "bgdns binary (built from ./cmd/bgdns when missing)")
		switches = flag.Int("switches", 200, "sequential switches to measure")
		kills    = flag.Int("kills", 3, "rounds of kill -9 of the leader")
		keep     = flag.Bool("keep", false, "keep the data directories and logs")
		edges    = flag.Int("edges", 0, "edge nodes (serve --role edge) to run beside the 3 voters")
	)
	flag.Parse()
	if *edges < 0 {
		fmt.Fprintln(os.Stderr, "bench-switch: -edges must be 0 or more")
		os.Exit(2)
	}
	if err := run(*bin, *switches, *kills, *edges, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench-switch:", err)
		os.Exit(1)
	}
}

type bench struct {
	bin   string
	nodes []*node
}

func run(bin string, switches, kills, edges int, keep bool) error {
	dir, err := os.MkdirTemp("", "bench-switch-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("data and logs in", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if _, err := os.Stat(bin); err != nil {
		bin = filepath.Join(dir, "bgdns")
		fmt.Println("building", bin)
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/bgdns").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	b := &bench{bin: bin}
	defer b.stopAll()
	if err := b.startCluster(dir, edges); err != nil {
		return err
	}
	fmt.Printf("3 voters up (bolt fsync on): %s, %s, %s", b.nodes[0].url(), b.nodes[1].url(), b.nodes[2].url())
	if edges > 0 {
		fmt.Printf(", and %d edge nodes", edges)
	}
	fmt.Println()
	if err := b.setup(); err != nil {
		return err
	}
	leader, err := b.leader()
	if err != nil {
		return err
	}
	// Warm up connections and caches, unmeasured.
	for i := 0; i < 5; i++ {
		if _, err := b.flip(leader, "switch", greenAddr); err != nil {
			return err
		}
		if _, err := b.flip(leader, "rollback", blueAddr); err != nil {
			return err
		}
	}
	var commitSw, dnsSw, commitRb, dnsRb series
	for i := 0; i < switches; i++ {
		m, err := b.flip(leader, "switch", greenAddr)
		if err != nil {
			return fmt.Errorf("switch %d: %w", i+1, err)
		}
		commitSw, dnsSw = append(commitSw, m.commit), append(dnsSw, m.dns)
		m, err = b.flip(leader, "rollback", blueAddr)
		if err != nil {
			return fmt.Errorf("rollback %d: %w", i+1, err)
		}
		commitRb, dnsRb = append(commitRb, m.commit), append(dnsRb, m.dns)
	}
	var waitAll series
	for i := 0; i < max(switches/4, 1); i++ {
		for _, op := range []string{"switch", "rollback"} {
			d, err := b.flipWaitAll(leader, op)
			if err != nil {
				return fmt.Errorf("%s wait=all %d: %w", op, i+1, err)
			}
			waitAll = append(waitAll, d)
		}
	}
	var failover series
	for i := 0; i < kills; i++ {
		d, err := b.killLeader()
		if err != nil {
			return fmt.Errorf("kill round %d: %w", i+1, err)
		}
		failover = append(failover, d)
	}

	all := fmt.Sprintf("all %d DNS", len(b.nodes))
	fmt.Printf("\n%-38s %6s %12s %12s %12s\n", "measure", "n", "p50", "p99", "max")
	fmt.Println(commitSw.row("switch: REST call -> commit"))
	fmt.Println(dnsSw.row("switch: REST call -> " + all))
	fmt.Println(commitRb.row("rollback: REST call -> commit"))
	fmt.Println(dnsRb.row("rollback: REST call -> " + all))
	fmt.Println(waitAll.row(fmt.Sprintf("flip wait=all: REST call -> 200 (%d)", len(b.nodes))))
	fmt.Println(failover.row("kill -9 leader -> first write"))
	return nil
}

// startCluster starts 3 voters, one after the other, then the edge
// nodes all at once (each joins through a voter), and waits until every
// node is ready.
func (b *bench) startCluster(dir string, edges int) error {
	ids := []string{"n1", "n2", "n3"}
	for i := 0; i < edges; i++ {
		ids = append(ids, fmt.Sprintf("e%d", i+1))
	}
	for _, id := range ids {
		n, err := newNode(dir, id)
		if err != nil {
			return err
		}
		b.nodes = append(b.nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// n1 bootstraps, n2 and n3 join through it one after the other, then
	// the edges all at once, each through one voter (whose address is
	// final once it is up: a node may have moved to new ports)
	for i, n := range b.nodes[:3] {
		args := []string{"--bootstrap", "--zone", zone}
		if i > 0 {
			args = []string{"--join", b.nodes[0].url()}
		}
		if err := n.start(b.bin, args...); err != nil {
			return err
		}
		if err := n.waitStarted(ctx, b.bin, args...); err != nil {
			return err
		}
	}
	edgeArgs := func(i int) []string { return []string{"--join", b.nodes[i%3].url(), "--role", "edge"} }
	for i, n := range b.nodes[3:] {
		if err := n.start(b.bin, edgeArgs(i)...); err != nil {
			return err
		}
	}
	for i, n := range b.nodes[3:] {
		if err := n.waitStarted(ctx, b.bin, edgeArgs(i)...); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) stopAll() {
	for _, n := range b.nodes {
		n.stop(10 * time.Second)
	}
}

func (b *bench) setup() error {
	n := b.nodes[0]
	put := map[string]any{"ttl": 5, "active": "blue", "blue": map[string]any{"version": "1.0", "addresses": []string{blueAddr.String()}}}
	if _, err := call(http.MethodPut, n.url()+"/v1/services/"+service, put); err != nil {
		return err
	}
	dep := map[string]any{"version": "2.0", "addresses": []string{greenAddr.String()}}
	if _, err := call(http.MethodPost, n.url()+"/v1/services/"+service+"/deploy", dep); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := waitAllAnswer(ctx, time.Now(), b.dnsAddrs(), service, blueAddr)
	return err
}

func (b *bench) dnsAddrs() []string {
	var out []string
	for _, n := range b.nodes {
		out = append(out, n.dnsAddr)
	}
	return out
}

type measure struct{ commit, dns time.Duration }

// flip sends one switch or rollback to n and measures the commit (n's
// answer) and the moment every node answers want over DNS.
func (b *bench) flip(n *node, op string, want netip.Addr) (measure, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type dnsResult struct {
		d   time.Duration
		err error
	}
	start := time.Now()
	dnsDone := make(chan dnsResult, 1)
	go func() {
		d, err := waitAllAnswer(ctx, start, b.dnsAddrs(), service, want)
		dnsDone <- dnsResult{d, err}
	}()
	_, err := call(http.MethodPost, n.url()+"/v1/services/"+service+"/"+op, map[string]any{"reason": "bench"})
	commit := time.Since(start)
	if err != nil {
		cancel()
		<-dnsDone
		return measure{}, err
	}
	r := <-dnsDone
	if r.err != nil {
		return measure{}, fmt.Errorf("not every node answered %s: %w", want, r.err)
	}
	return measure{commit: commit, dns: r.d}, nil
}

// flipWaitAll sends one switch or rollback with ?wait=all to n and
// measures until its answer, which must say every member applied it.
func (b *bench) flipWaitAll(n *node, op string) (time.Duration, error) {
	start := time.Now()
	body, err := call(http.MethodPost, n.url()+"/v1/services/"+service+"/"+op+"?wait=all&wait_timeout=10s", map[string]any{"reason": "bench"})
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	var res struct {
		Wait *struct {
			Complete bool              `json:"complete"`
			Nodes    []json.RawMessage `json:"nodes"`
		} `json:"wait"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, err
	}
	if res.Wait == nil || !res.Wait.Complete || len(res.Wait.Nodes) != len(b.nodes) {
		return 0, fmt.Errorf("wait=all not confirmed on all %d nodes: %s", len(b.nodes), body)
	}
	return d, nil
}

// leader asks the first running node who leads.
func (b *bench) leader() (*node, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		for _, n := range b.nodes {
			if !n.running() {
				continue
			}
			body, err := call(http.MethodGet, n.url()+"/v1/cluster", nil)
			if err != nil {
				continue
			}
			var st struct {
				Leader *struct {
					ID string `json:"id"`
				} `json:"leader"`
			}
			if json.Unmarshal(body, &st) == nil && st.Leader != nil {
				for _, l := range b.nodes {
					if l.id == st.Leader.ID && l.running() {
						return l, nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("no leader")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// killLeader kills the leader with SIGKILL and measures until a survivor
// accepts a write; then it restarts the killed node and waits for it.
func (b *bench) killLeader() (time.Duration, error) {
	l, err := b.leader()
	if err != nil {
		return 0, err
	}
	var survivors []*node
	for _, n := range b.nodes {
		if n != l {
			survivors = append(survivors, n)
		}
	}
	body, err := call(http.MethodGet, survivors[0].url()+"/v1/services/"+service, nil)
	if err != nil {
		return 0, err
	}
	var svc struct {
		Active string `json:"active"`
	}
	_ = json.Unmarshal(body, &svc)
	op := "switch"
	if svc.Active == "green" {
		op = "rollback"
	}
	reqID := fmt.Sprintf("bench-failover-%d", time.Now().UnixNano())
	l.kill9()
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for i := 0; ; i++ {
		n := survivors[i%len(survivors)]
		_, err := callTimeout(http.MethodPost, n.url()+"/v1/services/"+service+"/"+op,
			map[string]any{"reason": "bench failover", "request_id": reqID}, 2*time.Second)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no write accepted within 60s: %w", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d := time.Since(start)
	if err := l.start(b.bin); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range b.nodes {
		if err := n.waitReady(ctx); err != nil {
			return 0, err
		}
	}
	return d, nil
}

func call(method, url string, body any) ([]byte, error) {
	return callTimeout(method, url, body, 10*time.Second)
}

func callTimeout(method, url string, body any, timeout time.Duration) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}
