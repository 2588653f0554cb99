package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The metrics tests: a real Prometheus server scrapes a 3-node cluster's
// plain metrics listeners, and PromQL over its HTTP API sees the answers
// move to green on every node, the active colour, and a node cut off from
// the others go stale.

// startMetricsCluster starts 3 nodes, each with --metrics-addr on its own
// loopback address, and returns the cluster and the metrics addresses.
func startMetricsCluster(t *testing.T, args ...string) (*Cluster, []string) {
	t.Helper()
	c := &Cluster{t: t}
	var maddrs []string
	for i, host := range clusterHosts {
		o := NodeOptions{
			ID:        fmt.Sprintf("n%d", i+1),
			Host:      host,
			Bootstrap: i == 0,
			MaxStale:  staleMaxStale,
			Metrics:   true,
			Args:      append([]string{"--rrl-rate", "0"}, args...),
		}
		if i > 0 {
			o.Join = c.Nodes[0].URL()
		}
		n := NewNode(t, o)
		n.Start()
		n.WaitReady()
		c.Nodes = append(c.Nodes, n)
		maddrs = append(maddrs, n.MetricsAddr)
	}
	return c, maddrs
}

// promServer is a Prometheus process of the test's own, on loopback, with
// its storage in a temporary directory.
type promServer struct {
	t    *testing.T
	base string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func startPrometheus(t *testing.T, targets []string) *promServer {
	t.Helper()
	return startPrometheusWith(t, fmt.Sprintf(`  - job_name: bgdns
    metrics_path: /metrics
    static_configs:
      - targets: [%s]
`, quoteAll(targets)))
}

func quoteAll(s []string) string {
	var q []string
	for _, a := range s {
		q = append(q, strconv.Quote(a))
	}
	return strings.Join(q, ", ")
}

// startPrometheusWith runs Prometheus with these scrape_configs entries,
// every target scraped each second.
func startPrometheusWith(t *testing.T, scrapeConfigs string) *promServer {
	t.Helper()
	requireE2E(t, "prometheus")
	dir := t.TempDir()
	cfg := `global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
` + scrapeConfigs
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeTCPAddr(t, "127.0.0.1")
	p := &promServer{t: t, base: "http://" + addr, log: &bytes.Buffer{}}
	p.cmd = exec.Command("prometheus",
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.log.String())
		}
	})
	eventually(t, 30*time.Second, "prometheus ready", func() error {
		code, _, err := httpGet(p.base + "/-/ready")
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("/-/ready: %d", code)
		}
		return nil
	})
	return p
}

// promSample is one series of an instant vector.
type promSample struct {
	Metric map[string]string
	Value  float64
}

// query evaluates an instant PromQL query.
func (p *promServer) query(q string) ([]promSample, error) {
	code, body, err := httpGet(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %s: %d %s: %v", q, code, body, err)
	}
	if r.Status != "success" || r.Data.ResultType != "vector" {
		return nil, permanent{fmt.Errorf("query %s: %s %s (%s)", q, r.Status, r.Error, r.Data.ResultType)}
	}
	var out []promSample
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v", q, s.Value)
		}
		out = append(out, promSample{Metric: s.Metric, Value: v})
	}
	return out, nil
}

// byInstance is the value of each instance in an instant vector.
func byInstance(s []promSample) map[string]float64 {
	m := map[string]float64{}
	for _, x := range s {
		m[x.Metric["instance"]] = x.Value
	}
	return m
}

// scrape fetches one metrics endpoint.
func scrape(t *testing.T, addr string) []byte {
	t.Helper()
	code, body, err := httpGet("http://" + addr + "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", addr, code, err)
	}
	return body
}

// promtoolCheck runs `promtool check metrics` on a scrape and fails the
// test on any problem it reports.
func promtoolCheck(t *testing.T, addr string, body []byte) {
	t.Helper()
	requireE2E(t, "promtool")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "promtool", "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Errorf("promtool check metrics on %s: %v\n%s", addr, err, out)
	}
}

func TestMetricsPrometheusScrapesCluster(t *testing.T) {
	c, maddrs := startMetricsCluster(t)
	p := startPrometheus(t, maddrs)
	clusterCLI(t, c, "service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	clusterCLI(t, c, "deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	c.EveryNode(10*time.Second, "blue everywhere", func(n *Node) error { return checkColour(n, blueV4) })

	// A second service whose one address has a TCP health check that
	// passes: a listener of the test's own on loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	var z map[string]any
	Expect(t, http.StatusOK, "GET", c.Leader().URL()+"/v1/zones/"+testZone, nil).Decode(t, &z)
	z["allow_loopback"] = true
	Expect(t, http.StatusOK, "PUT", c.Leader().URL()+"/v1/zones/"+testZone, z)
	clusterCLI(t, c, "service", "put", "web."+testZone, "--ttl", "5", "--blue", "127.0.0.1", "--blue-version", "1",
		"--health-type", "tcp", "--health-port", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port),
		"--health-interval", "200ms", "--health-rise", "1")

	// Every instance is up and answering blue.
	eventually(t, 20*time.Second, "blue answers on every instance", func() error {
		s, err := p.query(`bgdns_dns_answers_total{colour="blue",zone="bg.example.test"} > 0`)
		if err != nil {
			return err
		}
		if len(s) != 3 {
			return fmt.Errorf("blue answers on %d instances: %v", len(s), s)
		}
		return nil
	})
	before, err := p.query(`bgdns_dns_answers_total{colour="green"}`)
	if err != nil {
		t.Fatal(err)
	}
	greenBefore := byInstance(before)

	clusterCLI(t, c, "switch", svcName, "--reason", "2.0 live", "--wait")
	c.EveryNode(10*time.Second, "green everywhere", func(n *Node) error { return checkColour(n, greenV4) })
	for _, n := range c.Nodes {
		for range 3 {
			if err := checkColour(n, greenV4); err != nil {
				t.Fatal(err)
			}
		}
	}

	eventually(t, 20*time.Second, "green answers rise on every instance", func() error {
		s, err := p.query(`bgdns_dns_answers_total{colour="green",zone="bg.example.test"}`)
		if err != nil {
			return err
		}
		got := byInstance(s)
		for _, a := range maddrs {
			if got[a] < greenBefore[a]+4 {
				return fmt.Errorf("green answers of %s: %v, before the switch %v", a, got[a], greenBefore[a])
			}
		}
		return nil
	})
	eventually(t, 20*time.Second, "green active on every instance", func() error {
		s, err := p.query(`bgdns_service_active{service="` + svcName + `",colour="green"} == 1`)
		if err != nil {
			return err
		}
		if len(s) != 3 {
			return fmt.Errorf("green active on %d instances: %v", len(s), s)
		}
		blue, err := p.query(`bgdns_service_active{service="` + svcName + `",colour="blue"} == 1`)
		if err != nil {
			return err
		}
		if len(blue) != 0 {
			return fmt.Errorf("blue still active: %v", blue)
		}
		return nil
	})
	eventually(t, 20*time.Second, "the switch's applied latency on every instance", func() error {
		s, err := p.query(`bgdns_switch_applied_seconds_count >= 1`)
		if err != nil {
			return err
		}
		if len(s) != 3 {
			return fmt.Errorf("switch applied on %d instances: %v", len(s), s)
		}
		return nil
	})
	eventually(t, 20*time.Second, "the health check up on every instance", func() error {
		s, err := p.query(`bgdns_health_check_up{service="web.bg.example.test",colour="blue",address="127.0.0.1"} == 1`)
		if err != nil {
			return err
		}
		if len(s) != 3 {
			return fmt.Errorf("health check up on %d instances: %v", len(s), s)
		}
		return nil
	})
	eventually(t, 20*time.Second, "one leader", func() error {
		s, err := p.query(`sum(bgdns_leader)`)
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0].Value != 1 {
			return fmt.Errorf("sum(bgdns_leader) = %v", s)
		}
		return nil
	})

	// Each node's scrape passes promtool's checks; together they have every
	// metric the Grafana dashboard asks for.
	var all bytes.Buffer
	for _, a := range maddrs {
		b := scrape(t, a)
		promtoolCheck(t, a, b)
		all.Write(b)
	}
	checkDashboardMetrics(t, all.Bytes())

	// Cut a follower off: the two others stop (SIGSTOP). It goes stale
	// once max-stale has passed without a leader's confirmation.
	f := c.Followers()[0]
	var cut string
	for i, n := range c.Nodes {
		if n == f {
			cut = maddrs[i]
		}
	}
	if s, err := p.query(`bgdns_stale{instance="` + cut + `"}`); err != nil || len(s) != 1 || s[0].Value != 0 {
		t.Fatalf("bgdns_stale of %s before the others stop: %v %v", cut, s, err)
	}
	for _, n := range c.Nodes {
		if n != f {
			n.Pause()
			t.Cleanup(n.Resume)
		}
	}
	eventually(t, 20*time.Second, "bgdns_stale 1 on the cut-off node", func() error {
		s, err := p.query(`bgdns_stale{instance="` + cut + `"}`)
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0].Value != 1 {
			return fmt.Errorf("bgdns_stale of %s: %v", cut, s)
		}
		return nil
	})
	for _, n := range c.Nodes {
		if n != f {
			n.Resume()
		}
	}
}

var promMetricName = regexp.MustCompile(`\bbgdns_[a-z0-9_]+`)

// checkDashboardMetrics parses deploy/grafana/bgdns.json and checks that
// every bgdns_ metric its queries name is in scrape.
func checkDashboardMetrics(t *testing.T, scrape []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "deploy", "grafana", "bgdns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana/bgdns.json: %v", err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(scrape), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		have[name] = true
	}
	n := 0
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			names := promMetricName.FindAllString(tg.Expr, -1)
			if len(names) == 0 {
				t.Errorf("dashboard panel %q: query %q names no bgdns metric", p.Title, tg.Expr)
			}
			for _, m := range names {
				n++
				if !have[m] {
					t.Errorf("dashboard panel %q uses %s, which no node exports", p.Title, m)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("the dashboard names %d metrics", n)
	}
}

// The plain metrics listener serves pprof only with --pprof, and serve
// refuses it off loopback without --insecure.
func TestMetricsListenerAndPprof(t *testing.T) {
	n := StartNode(t, NodeOptions{Bootstrap: true, Metrics: true})
	maddr := n.MetricsAddr
	n.Dig(testZone, "SOA")
	body := scrape(t, maddr)
	promtoolCheck(t, maddr, body)
	if !bytes.Contains(body, []byte("bgdns_leader 1")) {
		t.Errorf("the single node's scrape has no bgdns_leader 1:\n%s", body)
	}
	if code, _, err := httpGet("http://" + maddr + "/debug/pprof/"); err != nil || code != http.StatusNotFound {
		t.Errorf("pprof without --pprof: %d %v", code, err)
	}
	// The API's /metrics is the same registry (no token is set here).
	if code, b, err := httpGet(n.URL() + "/metrics"); err != nil || code != http.StatusOK || !bytes.Contains(b, []byte("bgdns_dns_queries_total")) {
		t.Errorf("API /metrics: %d %v", code, err)
	}

	p := StartNode(t, NodeOptions{ID: "p1", Bootstrap: true, Metrics: true, Args: []string{"--pprof"}})
	paddr := p.MetricsAddr
	if code, b, err := httpGet("http://" + paddr + "/debug/pprof/goroutine?debug=1"); err != nil || code != http.StatusOK || !bytes.Contains(b, []byte("goroutine")) {
		t.Errorf("pprof with --pprof: %d %v", code, err)
	}

	// Off loopback without --insecure: refused at start, naming the flag.
	r := RunCLIEnv(t, nil, "", "serve", "--node-id", "x1", "--data-dir", t.TempDir(), "--bootstrap",
		"--dns-addr", freeDNSAddr(t, "127.0.0.1"), "--http-addr", freeTCPAddr(t, "127.0.0.1"),
		"--raft-addr", freeTCPAddr(t, "127.0.0.1"), "--metrics-addr", "0.0.0.0:0")
	if r.Code == 0 || !strings.Contains(r.Stderr, "--metrics-addr") {
		t.Errorf("serve --metrics-addr 0.0.0.0:0: %s", r)
	}
}

// Prometheus scrapes /metrics on the API of a node with TLS and ACLs, with
// a read token from a file and the cluster CA; the same target without the
// token is refused (up 0).
func TestMetricsPrometheusScrapesAPIWithToken(t *testing.T) {
	ca := NewTestCA(t)
	n := StartNode(t, NodeOptions{Bootstrap: true, TLS: ca, ACL: true})
	var boot tokenChangeJSON
	aclCLIJSON(t, n, "", &boot, "acl", "bootstrap")
	var read tokenChangeJSON
	aclCLIJSON(t, n, boot.Secret, &read, "acl", "token", "create", "--name", "prometheus", "--role", "read")
	if read.Secret == "" {
		t.Fatalf("no secret for the read token: %+v", read)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "bgdns-token")
	if err := os.WriteFile(tokenFile, []byte(read.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPrometheusWith(t, fmt.Sprintf(`  - job_name: bgdns-api
    scheme: https
    authorization:
      type: Bearer
      credentials_file: %s
    tls_config:
      ca_file: %s
    static_configs:
      - targets: [%s]
  - job_name: bgdns-api-no-token
    scheme: https
    tls_config:
      ca_file: %s
    static_configs:
      - targets: [%s]
`, strconv.Quote(tokenFile), strconv.Quote(ca.CertFile()), strconv.Quote(n.HTTPAddr), strconv.Quote(ca.CertFile()), strconv.Quote(n.HTTPAddr)))

	eventually(t, 20*time.Second, "the API scraped with the token, refused without", func() error {
		up, err := p.query(`up`)
		if err != nil {
			return err
		}
		jobs := map[string]float64{}
		for _, s := range up {
			jobs[s.Metric["job"]] = s.Value
		}
		if v, ok := jobs["bgdns-api"]; !ok || v != 1 {
			return fmt.Errorf("up of the scrape with a token: %v", up)
		}
		if v, ok := jobs["bgdns-api-no-token"]; !ok || v != 0 {
			return fmt.Errorf("up of the scrape without a token: %v", up)
		}
		leader, err := p.query(`bgdns_leader{job="bgdns-api"} == 1`)
		if err != nil {
			return err
		}
		if len(leader) != 1 {
			return fmt.Errorf("bgdns_leader over the API: %v", leader)
		}
		return nil
	})
	if strings.Contains(n.Log(), read.Secret) {
		t.Error("the read token's secret is in the node's log")
	}
}
