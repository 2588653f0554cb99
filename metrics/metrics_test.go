package metrics

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

type fakeNode struct {
	st                    *control.State
	leader, stale, serves bool
}

func (f *fakeNode) State() *control.State { return f.st }
func (f *fakeNode) IsLeader() bool        { return f.leader }
func (f *fakeNode) Stale() bool           { return f.stale }
func (f *fakeNode) Serving() bool         { return f.serves }
func (f *fakeNode) Applied() uint64       { return f.st.Index() }

type fakeDNS struct {
	stats dnsserver.Stats
	named map[string]bool
}

func (f *fakeDNS) Stats() dnsserver.Stats        { return f.stats }
func (f *fakeDNS) StatsService(name string) bool { return f.named[name] }

const zone = "bg.example.test."

func testState(t *testing.T) *control.State {
	t.Helper()
	st := control.Empty()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	up := netip.MustParseAddr("10.0.0.21")
	for i, cmd := range []control.Command{
		{Op: control.OpZonePut, Name: zone, Zone: &control.ZoneSpec{NS: []string{"ns1." + zone},
			Glue: map[string][]netip.Addr{"ns1." + zone: {netip.MustParseAddr("192.0.2.53")}}}},
		{Op: control.OpServicePut, Name: "api." + zone, Service: &control.ServiceSpec{TTL: 5,
			Blue:        &control.Pool{Version: "1", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.11")}},
			Green:       &control.Pool{Version: "2", Addresses: []netip.Addr{up}},
			HealthCheck: &control.HealthCheck{Type: control.CheckTCP, Port: 80}}},
		{Op: control.OpHealth, Name: "api." + zone, Health: &control.HealthSpec{Changes: []control.HealthChange{{Addr: up, Status: control.HealthUp}}}},
		{Op: control.OpSwitch, Name: "api." + zone},
		{Op: control.OpServicePut, Name: "web." + zone, Service: &control.ServiceSpec{TTL: 5,
			Blue: &control.Pool{Version: "1", Addresses: []netip.Addr{netip.MustParseAddr("10.1.0.1")}}}},
	} {
		cmd.Time = at
		next, res := st.Apply(cmd, uint64(i+1))
		if res.Err != nil {
			t.Fatalf("%s: %v", cmd.Op, res.Err)
		}
		st = next
	}
	return st
}

// scrapeFamilies serves one scrape of m and parses it.
func scrapeFamilies(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse scrape: %v\n%s", err, rec.Body)
	}
	return fams
}

// value returns the value of the series of family name with exactly
// labels, and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			found := false
			for i := 0; i < len(labels); i += 2 {
				if labels[i] == l.GetName() && labels[i+1] == l.GetValue() {
					found = true
				}
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestCollectorReadsNodeAndDNS(t *testing.T) {
	st := testState(t)
	node := &fakeNode{st: st, leader: true, stale: true, serves: true}
	dns := &fakeDNS{named: map[string]bool{"api." + zone: true}}
	dns.stats.Queries = []dnsserver.QueryCount{
		{Zone: zone, Qtype: "A", Rcode: "NOERROR", Transport: "udp", N: 7},
		{Zone: dnsserver.NoZoneLabel, Qtype: "OTHER", Rcode: "REFUSED", Transport: "tcp", N: 2},
	}
	dns.stats.ZoneAnswers = []dnsserver.ColourCount{{Name: zone, Colour: control.Green, N: 5}}
	dns.stats.ServiceAnswers = []dnsserver.ColourCount{{Name: "api." + zone, Colour: control.Green, N: 5},
		{Name: dnsserver.OtherLabel, Colour: control.Blue, N: 3}}
	dns.stats.Latency[0], dns.stats.Latency[3], dns.stats.Latency[len(dnsserver.LatencyBuckets)] = 2, 1, 1

	m := New()
	if _, ok := value(scrapeFamilies(t, m), "bgdns_leader"); ok {
		t.Error("bgdns_leader before Attach")
	}
	m.Attach(node, dns)
	fams := scrapeFamilies(t, m)
	for _, w := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"bgdns_dns_queries_total", []string{"zone", "bg.example.test", "qtype", "A", "rcode", "NOERROR", "transport", "udp"}, 7},
		{"bgdns_dns_queries_total", []string{"zone", "_none", "qtype", "OTHER", "rcode", "REFUSED", "transport", "tcp"}, 2},
		{"bgdns_dns_answers_total", []string{"zone", "bg.example.test", "colour", "green"}, 5},
		{"bgdns_service_answers_total", []string{"service", "api.bg.example.test", "colour", "green"}, 5},
		{"bgdns_service_answers_total", []string{"service", "_other", "colour", "blue"}, 3},
		{"bgdns_service_active", []string{"service", "api.bg.example.test", "colour", "green"}, 1},
		{"bgdns_service_active", []string{"service", "api.bg.example.test", "colour", "blue"}, 0},
		{"bgdns_health_check_up", []string{"service", "api.bg.example.test", "colour", "green", "address", "10.0.0.21"}, 1},
		{"bgdns_health_check_up", []string{"service", "api.bg.example.test", "colour", "blue", "address", "10.0.0.11"}, 0},
		{"bgdns_leader", nil, 1},
		{"bgdns_stale", nil, 1},
		{"bgdns_serving", nil, 1},
		{"bgdns_applied_index", nil, 5},
		{"bgdns_dns_request_duration_seconds", nil, 4},
	} {
		got, ok := value(fams, w.name, w.labels...)
		if !ok || got != w.want {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.want)
		}
	}
	// web has no series of its own: the DNS server's bound says so.
	if _, ok := value(fams, "bgdns_service_active", "service", "web.bg.example.test", "colour", "blue"); ok {
		t.Error("bgdns_service_active for a service past the bound")
	}
	h := fams["bgdns_dns_request_duration_seconds"].GetMetric()[0].GetHistogram()
	var cum []uint64
	for _, b := range h.GetBucket() {
		cum = append(cum, b.GetCumulativeCount())
	}
	if len(cum) != len(dnsserver.LatencyBuckets)+1 || cum[0] != 2 || cum[2] != 2 || cum[3] != 3 || cum[len(cum)-2] != 3 || cum[len(cum)-1] != 4 {
		t.Errorf("cumulative buckets %v, want 2,2,2,3,...,3 then 4 at +Inf", cum)
	}
}

func TestObserveSwitchSkipsReplayedEntries(t *testing.T) {
	m := New()
	m.ObserveSwitch("api."+zone, time.Time{})
	m.ObserveSwitch("api."+zone, m.started.Add(-time.Hour)) // appended before this process: a replay
	if got, _ := value(scrapeFamilies(t, m), "bgdns_switch_applied_seconds"); got != 0 {
		t.Fatalf("%v switches observed, want 0", got)
	}
	m.started = time.Now().Add(-time.Minute) // as if the process had run for a while
	m.ObserveSwitch("api."+zone, time.Now().Add(-3*time.Millisecond))
	fams := scrapeFamilies(t, m)
	h := fams["bgdns_switch_applied_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() < 0.003 {
		t.Errorf("switch histogram: count %d sum %v, want 1 and at least 3ms", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestRaftMetricsRenamed(t *testing.T) {
	for in, want := range map[string]string{
		"bgdns_raft_commitTime":     "bgdns_raft_commit_time",
		"bgdns_raft_commitNumLogs":  "bgdns_raft_commit_num_logs",
		"rpcType":                   "rpc_type",
		"bgdns_raft_fsm_apply":      "bgdns_raft_fsm_apply",
		"bgdns_raft_replication_ID": "bgdns_raft_replication_id",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
	// Raft reports to go-metrics' global sink; the registry shows it.
	m := New()
	raftIncr()
	fams := scrapeFamilies(t, m)
	if _, ok := value(fams, "bgdns_raft_test_probe_total"); !ok {
		var names []string
		for n := range fams {
			names = append(names, n)
		}
		t.Errorf("no bgdns_raft_test_probe_total in %v", names)
	}
}
