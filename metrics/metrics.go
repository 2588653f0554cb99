// Package metrics exports a node's figures in the Prometheus text format:
// the DNS server's query counters (read from dnsserver.Stats at scrape
// time, so the DNS fast path knows nothing of Prometheus), the node's Raft
// role and freshness, the services' active colour and health, the time a
// switch takes from the leader's log to this node, and Raft's own metrics
// through a go-metrics Prometheus sink.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bgdns/bgdns/buildinfo"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

// Node is what the collector reads of a cluster node (cluster.Node).
type Node interface {
	State() *control.State
	IsLeader() bool
	Stale() bool
	Serving() bool
	Applied() uint64
}

// DNS is what the collector reads of the DNS server (dnsserver.Server).
type DNS interface {
	Stats() dnsserver.Stats
	StatsService(name string) bool
}

// SwitchBuckets are the bounds (seconds) of bgdns_switch_applied_seconds.
var SwitchBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Metrics is one node's registry.
type Metrics struct {
	reg     *prometheus.Registry
	started time.Time
	switchH prometheus.Histogram

	mu   sync.Mutex
	node Node
	dns  DNS
}

// New returns a node's registry: Go runtime and process metrics, Raft's
// metrics and the bgdns collector, which reads nothing until Attach.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), started: time.Now()}
	m.switchH = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "bgdns_switch_applied_seconds",
		Help:    "Time from the leader appending a switch or rollback to its log to this node applying it (the leader's and this node's clocks).",
		Buckets: SwitchBuckets,
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.switchH,
		&collector{m: m},
	)
	if sink := raftSink(); sink != nil {
		m.reg.MustRegister(sink)
	}
	return m
}

// Registry is where the node's metrics are registered.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Attach tells the collector which node and DNS server to read.
func (m *Metrics) Attach(n Node, d DNS) {
	m.mu.Lock()
	m.node, m.dns = n, d
	m.mu.Unlock()
}

// ObserveSwitch records a switch or rollback applied now whose entry the
// leader appended at appendedAt (cluster.Config.OnSwitch). Entries
// appended before this process started are the log being re-applied at
// boot, not switches: they are left out.
func (m *Metrics) ObserveSwitch(_ string, appendedAt time.Time) {
	if appendedAt.IsZero() || appendedAt.Before(m.started) {
		return
	}
	m.switchH.Observe(max(time.Since(appendedAt).Seconds(), 0))
}

// Handler serves the registry in the Prometheus text format, a few scrapes
// at a time, each bounded in time.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

var (
	descQueries = prometheus.NewDesc("bgdns_dns_queries_total",
		"DNS queries answered, by zone (_none: outside every zone), query type, rcode and transport.",
		[]string{"zone", "qtype", "rcode", "transport"}, nil)
	descAnswers = prometheus.NewDesc("bgdns_dns_answers_total",
		"Positive answers of live service names, by zone and the colour they gave.",
		[]string{"zone", "colour"}, nil)
	descServiceAnswers = prometheus.NewDesc("bgdns_service_answers_total",
		"Positive answers of a service's live name by the colour they gave (the first --metrics-services services; the others under _other).",
		[]string{"service", "colour"}, nil)
	descDuration = prometheus.NewDesc("bgdns_dns_request_duration_seconds",
		"Time to answer a DNS query, from reading it to the reply built (UDP: one query in 16 per reader is timed; TCP: every query).",
		nil, nil)
	descActive = prometheus.NewDesc("bgdns_service_active",
		"1 for the colour a service's live name answers, 0 for the other (the first --metrics-services services).",
		[]string{"service", "colour"}, nil)
	descHealth = prometheus.NewDesc("bgdns_health_check_up",
		"1 when the committed health of a pool address is up, 0 when down or not probed yet (services with a health check).",
		[]string{"service", "colour", "address"}, nil)
	descLeader  = prometheus.NewDesc("bgdns_leader", "1 while this node is the Raft leader.", nil, nil)
	descStale   = prometheus.NewDesc("bgdns_stale", "1 while this node serves answers it could not confirm as current (marked stale).", nil, nil)
	descServing = prometheus.NewDesc("bgdns_serving", "1 while this node answers for its zones (0: SERVFAIL).", nil, nil)
	descApplied = prometheus.NewDesc("bgdns_applied_index", "Raft index of the last command applied on this node.", nil, nil)
	descBuild   = prometheus.NewDesc("bgdns_build_info", "Always 1; the labels name the build.",
		[]string{"version", "commit", "goversion"}, nil)
)

// collector reads the node and the DNS server at scrape time.
type collector struct{ m *Metrics }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueries, descAnswers, descServiceAnswers, descDuration,
		descActive, descHealth, descLeader, descStale, descServing, descApplied, descBuild} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	bi := buildinfo.Get()
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, bi.Version, bi.Commit, bi.GoVersion)
	c.m.mu.Lock()
	n, d := c.m.node, c.m.dns
	c.m.mu.Unlock()
	if n != nil {
		ch <- gauge(descLeader, n.IsLeader())
		ch <- gauge(descStale, n.Stale())
		ch <- gauge(descServing, n.Serving())
		ch <- prometheus.MustNewConstMetric(descApplied, prometheus.GaugeValue, float64(n.Applied()))
	}
	if d == nil {
		return
	}
	st := d.Stats()
	for _, q := range st.Queries {
		ch <- prometheus.MustNewConstMetric(descQueries, prometheus.CounterValue, float64(q.N),
			label(q.Zone), q.Qtype, q.Rcode, q.Transport)
	}
	for _, a := range st.ZoneAnswers {
		ch <- prometheus.MustNewConstMetric(descAnswers, prometheus.CounterValue, float64(a.N), label(a.Name), string(a.Colour))
	}
	for _, a := range st.ServiceAnswers {
		ch <- prometheus.MustNewConstMetric(descServiceAnswers, prometheus.CounterValue, float64(a.N), label(a.Name), string(a.Colour))
	}
	buckets := make(map[float64]uint64, len(dnsserver.LatencyBuckets))
	var count uint64
	for i, b := range dnsserver.LatencyBuckets {
		count += st.Latency[i]
		buckets[b] = count
	}
	count += st.Latency[len(dnsserver.LatencyBuckets)]
	ch <- prometheus.MustNewConstHistogram(descDuration, count, st.LatencySum.Seconds(), buckets)

	if n == nil {
		return
	}
	for _, svc := range n.State().Services() {
		if !d.StatsService(svc.Name) {
			continue
		}
		name := label(svc.Name)
		for _, col := range []control.Colour{control.Blue, control.Green} {
			ch <- gauge(descActive, svc.Active == col, name, string(col))
			if !svc.HasHealthCheck() {
				continue
			}
			if p := svc.Pool(col); p != nil {
				for _, a := range p.Addresses {
					ch <- gauge(descHealth, svc.AddrStatus(a).Status == control.HealthUp, name, string(col), a.String())
				}
			}
		}
	}
}

func gauge(d *prometheus.Desc, on bool, labels ...string) prometheus.Metric {
	v := 0.0
	if on {
		v = 1
	}
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// label is a zone or service name as a label value: without the trailing
// dot (the root stays ".").
func label(name string) string {
	if len(name) > 1 {
		return strings.TrimSuffix(name, ".")
	}
	return name
}
