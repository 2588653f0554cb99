package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// serverReport holds every run of one server and their medians.
type serverReport struct {
	Name    string            `json:"name"`
	Error   string            `json:"error,omitempty"`
	Answers map[string]string `json:"answer_shapes,omitempty"`
	Max     []perfResult      `json:"max_runs"`
	Fixed   []perfResult      `json:"fixed_rate_runs"`
	RSSMiB  float64           `json:"rss_mib"`
	Median  medians           `json:"median"`
}

// medians across rounds.
type medians struct {
	QPS float64 `json:"qps"`
	// QPSPerCore is queries answered per second of server CPU time at
	// maximum load: qps per core, independent of how much CPU other
	// processes took.
	QPSPerCore    float64 `json:"qps_per_core"`
	LostMax       float64 `json:"lost_at_max"`
	LostFixed     float64 `json:"lost_at_fixed_rate"`
	P50           float64 `json:"p50_us"`
	P99           float64 `json:"p99_us"`
	P999          float64 `json:"p999_us"`
	CPUPerQueryUS float64 `json:"cpu_us_per_query"`
	OtherLoad     float64 `json:"other_load_on_server_cpu"`
}

type stormReport struct {
	Runs      []perfResult  `json:"runs"`
	Switches  []stormResult `json:"switches"`
	IdleP99   float64       `json:"idle_p99_us"`
	StormP99  float64       `json:"storm_p99_us"`
	StormP50  float64       `json:"storm_p50_us"`
	Ratio     float64       `json:"storm_over_idle_p99"`
	SwitchOK  int64         `json:"switches_ok"`
	SwitchBad int64         `json:"switches_failed"`
}

type report struct {
	Time     time.Time                `json:"time"`
	Config   map[string]any           `json:"config"`
	Versions map[string]string        `json:"versions"`
	Servers  []*serverReport          `json:"servers"`
	Ratios   map[string]float64       `json:"ratios"`
	Storm    stormReport              `json:"switch_storm"`
	Big      *bigResult               `json:"big,omitempty"`
	byName   map[string]*serverReport `json:"-"`
}

func newReport(c config) *report {
	r := &report{Time: time.Now().UTC(), byName: map[string]*serverReport{}, Ratios: map[string]float64{}}
	r.Config = map[string]any{
		"seconds": c.seconds, "rounds": c.rounds, "fixed_rate_qps": c.rate,
		"max_clients": c.maxClients, "max_outstanding": c.maxOutstand,
		"services": c.services, "aaaa_services": c.aaaa, "query_lines": c.queries,
		"mix": "80% A, 10% AAAA, 10% NXDOMAIN", "server_cpu": c.serverCPU, "client_cpu": c.clientCPU,
		"switch_rate": c.switchRate, "big_services": c.bigServices,
	}
	r.Versions = versions(c.bin)
	if c.baseBin != "" {
		r.Versions["bgdns-base"] = c.baseBin
	}
	for _, n := range c.servers {
		r.server(n)
	}
	return r
}

func (r *report) server(name string) *serverReport {
	if s := r.byName[name]; s != nil {
		return s
	}
	s := &serverReport{Name: name}
	r.byName[name] = s
	r.Servers = append(r.Servers, s)
	return s
}

func collect(runs []perfResult, f func(perfResult) float64) float64 {
	v := make([]float64, len(runs))
	for i, x := range runs {
		v[i] = f(x)
	}
	return median(v)
}

// finish computes medians and ratios.
func (r *report) finish() {
	for _, s := range r.Servers {
		s.Median = medians{
			QPS: collect(s.Max, func(p perfResult) float64 { return p.QPS }),
			QPSPerCore: collect(s.Max, func(p perfResult) float64 {
				if p.CPUPerQueryUS == 0 {
					return 0
				}
				return 1e6 / p.CPUPerQueryUS
			}),
			LostMax:       collect(s.Max, func(p perfResult) float64 { return float64(p.Lost) }),
			LostFixed:     collect(s.Fixed, func(p perfResult) float64 { return float64(p.Lost) }),
			P50:           collect(s.Fixed, func(p perfResult) float64 { return p.P50 }),
			P99:           collect(s.Fixed, func(p perfResult) float64 { return p.P99 }),
			P999:          collect(s.Fixed, func(p perfResult) float64 { return p.P999 }),
			CPUPerQueryUS: collect(s.Fixed, func(p perfResult) float64 { return p.CPUPerQueryUS }),
			OtherLoad:     collect(append(append([]perfResult(nil), s.Max...), s.Fixed...), func(p perfResult) float64 { return p.OtherLoad }),
		}
	}
	b := r.byName["bgdns"]
	for _, other := range []string{"nsd", "knot", "bgdns-base"} {
		o := r.byName[other]
		if b == nil || o == nil || len(b.Max) == 0 || len(o.Max) == 0 {
			continue
		}
		r.Ratios["qps_bgdns_over_"+other] = ratio(b.Median.QPS, o.Median.QPS)
		r.Ratios["qps_per_core_bgdns_over_"+other] = ratio(b.Median.QPSPerCore, o.Median.QPSPerCore)
		r.Ratios["p99_bgdns_over_"+other] = ratio(b.Median.P99, o.Median.P99)
		r.Ratios["cpu_bgdns_over_"+other] = ratio(b.Median.CPUPerQueryUS, o.Median.CPUPerQueryUS)
	}
	st := &r.Storm
	if b != nil && len(st.Runs) > 0 {
		st.IdleP99 = b.Median.P99
		st.StormP99 = collect(st.Runs, func(p perfResult) float64 { return p.P99 })
		st.StormP50 = collect(st.Runs, func(p perfResult) float64 { return p.P50 })
		st.Ratio = ratio(st.StormP99, st.IdleP99)
		for _, s := range st.Switches {
			st.SwitchOK += s.OK
			st.SwitchBad += s.Failed
		}
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// table renders the report as text.
func (r *report) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nbgdns benchmark %s — %d services (%d with AAAA), mix %s; server on CPU %v, dnsperf on CPU %v; %v rounds of %vs; medians\n\n",
		r.Time.Format(time.RFC3339), r.Config["services"], r.Config["aaaa_services"], r.Config["mix"],
		r.Config["server_cpu"], r.Config["client_cpu"], r.Config["rounds"], r.Config["seconds"])
	fmt.Fprintf(&b, "%-10s %9s %9s %6s | %8s %8s %8s %9s %5s | %7s %6s\n",
		"server", "max qps", "qps/core", "lost", "p50 us", "p99 us", "p99.9 us", "CPU us/q", "lost", "RSS MiB", "other")
	fmt.Fprintf(&b, "%-10s %-26s | %-46s | %7s %6s\n", "", fmt.Sprintf("dnsperf -c %v -q %v", r.Config["max_clients"], r.Config["max_outstanding"]),
		fmt.Sprintf("dnsperf -Q %v", r.Config["fixed_rate_qps"]), "", "load")
	for _, s := range r.Servers {
		if s.Error != "" && len(s.Max) == 0 {
			fmt.Fprintf(&b, "%-10s not measured: %s\n", s.Name, firstLine(s.Error))
			continue
		}
		m := s.Median
		fmt.Fprintf(&b, "%-10s %9.0f %9.0f %6.0f | %8.0f %8.0f %8.0f %9.2f %5.0f | %7.1f %5.0f%%\n",
			s.Name, m.QPS, m.QPSPerCore, m.LostMax, m.P50, m.P99, m.P999, m.CPUPerQueryUS, m.LostFixed, s.RSSMiB, 100*m.OtherLoad)
	}
	if len(r.Ratios) > 0 {
		b.WriteString("\nratios (bgdns / other, same run, of medians):\n")
		for _, other := range []string{"nsd", "knot", "bgdns-base"} {
			if q, ok := r.Ratios["qps_bgdns_over_"+other]; ok {
				fmt.Fprintf(&b, "  vs %-10s max qps %.2fx   qps/core %.2fx   p99 %.2fx   CPU/query at fixed rate %.2fx\n", other, q,
					r.Ratios["qps_per_core_bgdns_over_"+other], r.Ratios["p99_bgdns_over_"+other], r.Ratios["cpu_bgdns_over_"+other])
			}
		}
	}
	if st := r.Storm; len(st.Runs) > 0 {
		fmt.Fprintf(&b, "\nswitch storm (%v switches/s during the fixed-rate run): bgdns p99 %.0f us vs idle %.0f us (%.2fx); p50 %.0f us; switches ok %d, failed %d\n",
			r.Config["switch_rate"], st.StormP99, st.IdleP99, st.Ratio, st.StormP50, st.SwitchOK, st.SwitchBad)
	}
	if g := r.Big; g != nil {
		fmt.Fprintf(&b, "\n%d services: loaded %d via REST in %.1fs (%.0f/s); RSS %.0f MiB after load (%.0f MiB empty); restart to /readyz %.2fs, to DNS %.2fs; RSS after restart %.0f MiB\n",
			g.Services, g.Loaded, g.LoadSeconds, g.LoadPerSecond, g.RSSMiB, g.FirstStartRSS, g.RestartReadyS, g.RestartDNSS, g.RSSRestartMiB)
		if g.SnapRestartReadyS > 0 {
			fmt.Fprintf(&b, "  after a Raft snapshot (appeared after %.0fs): restart to /readyz %.2fs, to DNS %.2fs; RSS %.0f MiB\n",
				g.SnapshotWaitS, g.SnapRestartReadyS, g.SnapRestartDNSS, g.SnapRestartRSSMiB)
		} else if g.SnapshotNote != "" {
			fmt.Fprintf(&b, "  second restart: %s\n", firstLine(g.SnapshotNote))
		}
		if g.Error != "" {
			fmt.Fprintf(&b, "  error: %s\n", firstLine(g.Error))
		}
	}
	b.WriteString("\nqps/core: queries answered per second of the server's own CPU time at maximum load.\n")
	b.WriteString("other load: median share of the server's CPU taken by other processes during the runs; high values mean qps and latency are disturbed.\n")
	b.WriteString("\nversions:\n")
	for _, k := range []string{"bgdns", "nsd", "knot", "dnsperf", "go", "kernel"} {
		fmt.Fprintf(&b, "  %-8s %s\n", k, r.Versions[k])
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// write stores the report as JSON: a timestamped file and latest.json.
func (r *report) write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	name := filepath.Join(dir, "bench-"+r.Time.Format("20060102T150405Z")+".json")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "latest.json"), b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stdout, "\nwritten: %s (and %s)\n", name, filepath.Join(dir, "latest.json"))
	return nil
}

// versions records what was measured.
func versions(bin string) map[string]string {
	v := map[string]string{}
	out := func(name string, args ...string) string {
		b, _ := exec.Command(name, args...).CombinedOutput()
		return string(b)
	}
	v["nsd"] = firstLine(strings.TrimSpace(out("nsd", "-v")))
	v["knot"] = firstLine(strings.TrimSpace(out("knotd", "-V")))
	for _, l := range strings.Split(out("dnsperf", "-h"), "\n") {
		if strings.HasPrefix(l, "Version") {
			v["dnsperf"] = "dnsperf " + strings.TrimSpace(l)
		}
	}
	v["go"] = strings.TrimSpace(out("go", "version"))
	v["kernel"] = strings.TrimSpace(out("uname", "-r"))
	commit := strings.TrimSpace(out("git", "rev-parse", "--short", "HEAD"))
	if s := strings.TrimSpace(out("git", "status", "--porcelain", "--untracked-files=no")); s != "" {
		commit += " (working tree has uncommitted changes)"
	}
	v["bgdns"] = bin + " at commit " + commit
	return v
}
