package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// perfResult is what one dnsperf run measured.
type perfResult struct {
	Sent      int64   `json:"sent"`
	Completed int64   `json:"completed"`
	Lost      int64   `json:"lost"`
	QPS       float64 `json:"qps"`
	// Latency percentiles in microseconds; only with verbose output.
	P50  float64 `json:"p50_us,omitempty"`
	P99  float64 `json:"p99_us,omitempty"`
	P999 float64 `json:"p999_us,omitempty"`
	// ServerCPU is the server's CPU time during the run, per completed query.
	CPUPerQueryUS float64 `json:"cpu_us_per_query,omitempty"`
	// OtherLoad is the share of the server's CPU used by other processes
	// during the run (0..1): how much the machine disturbed the measurement.
	OtherLoad float64 `json:"other_load_on_server_cpu"`
	Args      string  `json:"args"`
}

// perfRun describes one dnsperf invocation.
type perfRun struct {
	port    int
	queries string
	seconds int
	cpu     int
	extra   []string // e.g. -c 4 -q 500, or -Q 20000
	verbose bool     // -v: per-query latencies for percentiles
	outPath string
}

func (r perfRun) args() []string {
	a := pinned(r.cpu, "dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(r.port),
		"-d", r.queries, "-l", strconv.Itoa(r.seconds))
	a = append(a, r.extra...)
	if r.verbose {
		a = append(a, "-v")
	}
	return a
}

// runPerf runs dnsperf (pinned with taskset) with output to a file and
// parses it afterwards, so that parsing never competes with the server.
func runPerf(ctx context.Context, r perfRun) (perfResult, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(r.seconds+30)*time.Second)
	defer cancel()
	f, err := os.Create(r.outPath)
	if err != nil {
		return perfResult{}, err
	}
	args := r.args()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr()
	if err = cmd.Start(); err == nil {
		prioritize(cmd.Process.Pid)
		err = cmd.Wait()
	}
	f.Close()
	if err != nil {
		return perfResult{}, fmt.Errorf("dnsperf %v: %w (see %s)", args, err, r.outPath)
	}
	res, err := parsePerf(r.outPath)
	res.Args = strings.Join(args, " ")
	return res, err
}

// parsePerf reads dnsperf's summary and, when present, the "-v" lines
// "> NOERROR name type 0.000123" for latency percentiles.
func parsePerf(path string) (perfResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return perfResult{}, err
	}
	defer f.Close()
	var res perfResult
	var lat []float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "> ") {
			fs := strings.Fields(line)
			if len(fs) >= 5 && fs[1] != "T" {
				if v, err := strconv.ParseFloat(fs[len(fs)-1], 64); err == nil {
					lat = append(lat, v*1e6)
				}
			}
			continue
		}
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "Queries sent:"):
			res.Sent = firstInt(t)
		case strings.HasPrefix(t, "Queries completed:"):
			res.Completed = firstInt(t)
		case strings.HasPrefix(t, "Queries lost:"):
			res.Lost = firstInt(t)
		case strings.HasPrefix(t, "Queries per second:"):
			res.QPS, _ = strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(t, "Queries per second:")), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return res, err
	}
	if res.Sent == 0 {
		return res, fmt.Errorf("no dnsperf statistics in %s", path)
	}
	if len(lat) > 0 {
		sort.Float64s(lat)
		res.P50, res.P99, res.P999 = pct(lat, 50), pct(lat, 99), pct(lat, 99.9)
	}
	return res, nil
}

func firstInt(s string) int64 {
	for _, f := range strings.Fields(s) {
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			return v
		}
	}
	return 0
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

// median of values (0 when empty).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
