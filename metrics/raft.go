package metrics

import (
	"strings"
	"sync"
	"time"

	gometrics "github.com/hashicorp/go-metrics/compat"
	gmprom "github.com/hashicorp/go-metrics/compat/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var (
	raftOnce sync.Once
	raftReg  *prometheus.Registry
)

// raftSink sends Raft's go-metrics (the library reports to the package's
// global sink) to a Prometheus sink in a registry of its own, and returns
// a collector that exports them as bgdns_raft_* under Prometheus' naming
// rules. The sink is process-wide: every node of one process (bgdns dev)
// shares it.
func raftSink() prometheus.Collector {
	raftOnce.Do(func() {
		reg := prometheus.NewRegistry()
		sink, err := gmprom.NewPrometheusSinkFrom(gmprom.PrometheusOpts{
			Expiration: time.Minute,
			Registerer: reg,
		})
		if err != nil {
			return
		}
		cfg := gometrics.DefaultConfig("bgdns")
		cfg.EnableHostname = false
		cfg.EnableHostnameLabel = false
		cfg.EnableServiceLabel = false
		cfg.EnableRuntimeMetrics = false // the Go collector has them
		if _, err := gometrics.NewGlobal(cfg, sink); err != nil {
			return
		}
		raftReg = reg
	})
	if raftReg == nil {
		return nil
	}
	return renamed{raftReg}
}

// renamed exports what a gatherer holds with snake_case names and the
// _total suffix on counters (go-metrics keeps Raft's camelCase keys,
// such as raft.commitTime). It is an unchecked collector: its series come
// and go with what Raft reported in the last minute.
type renamed struct{ g prometheus.Gatherer }

func (renamed) Describe(chan<- *prometheus.Desc) {}

func (r renamed) Collect(ch chan<- prometheus.Metric) {
	fams, _ := r.g.Gather()
	for _, f := range fams {
		name := snake(f.GetName())
		if f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total") {
			name += "_total"
		}
		for _, m := range f.GetMetric() {
			var keys, vals []string
			for _, l := range m.GetLabel() {
				keys = append(keys, snake(l.GetName())) // rpcType is rpc_type
				vals = append(vals, l.GetValue())
			}
			d := prometheus.NewDesc(name, f.GetHelp(), keys, nil)
			var (
				pm  prometheus.Metric
				err error
			)
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				pm, err = prometheus.NewConstMetric(d, prometheus.CounterValue, m.GetCounter().GetValue(), vals...)
			case dto.MetricType_GAUGE:
				pm, err = prometheus.NewConstMetric(d, prometheus.GaugeValue, m.GetGauge().GetValue(), vals...)
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				q := make(map[float64]float64, len(s.GetQuantile()))
				for _, x := range s.GetQuantile() {
					q[x.GetQuantile()] = x.GetValue()
				}
				pm, err = prometheus.NewConstSummary(d, s.GetSampleCount(), s.GetSampleSum(), q, vals...)
			case dto.MetricType_UNTYPED:
				pm, err = prometheus.NewConstMetric(d, prometheus.UntypedValue, m.GetUntyped().GetValue(), vals...)
			default:
				continue
			}
			if err == nil {
				ch <- pm
			}
		}
	}
}

// snake turns a camelCase metric name into snake_case:
// bgdns_raft_commitNumLogs is bgdns_raft_commit_num_logs.
func snake(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 && s[i-1] != '_' && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
