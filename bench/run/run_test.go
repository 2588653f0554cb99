package main

import (
	"os"
	"testing"
)

func TestParsePerf(t *testing.T) {
	res, err := parsePerf("testdata/dnsperf-v.txt")
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 40000 || res.Completed != 40000 || res.Lost != 0 {
		t.Fatalf("counts %+v", res)
	}
	if res.QPS < 19999 || res.QPS > 20000 {
		t.Fatalf("qps %v", res.QPS)
	}
	// Five verbose lines (189, 137, 116, 25, 31 us); the timed-out one is skipped.
	if res.P50 != 116 || res.P99 != 189 {
		t.Fatalf("p50 %v p99 %v", res.P50, res.P99)
	}
}

func TestParsePerfNoStatistics(t *testing.T) {
	p := t.TempDir() + "/empty.txt"
	if err := os.WriteFile(p, []byte("[Status] nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parsePerf(p); err == nil {
		t.Fatal("want an error without statistics")
	}
}

func TestPercentilesAndMedian(t *testing.T) {
	v := make([]float64, 1000)
	for i := range v {
		v[i] = float64(i + 1)
	}
	if pct(v, 50) != 500 || pct(v, 99) != 990 || pct(v, 99.9) != 999 || pct(v, 100) != 1000 {
		t.Fatalf("pct %v %v %v", pct(v, 50), pct(v, 99), pct(v, 99.9))
	}
	if median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 2, 3}) != 2.5 || median(nil) != 0 {
		t.Fatal("median")
	}
}

func TestProcReading(t *testing.T) {
	pid := os.Getpid()
	if _, err := readStat(pid); err != nil {
		t.Fatal(err)
	}
	if rssBytes(pid) <= 0 {
		t.Fatal("no VmRSS for this process")
	}
	if tree(pid)[0] != pid {
		t.Fatal("tree does not start at pid")
	}
	before := cpuTime(pid)
	for i := 0; cpuTime(pid) == before && i < 1e6; i++ {
	}
	if cpuTime(pid) <= before {
		t.Fatal("cpuTime does not move while this process runs")
	}
	if busy, total := cpuBusy(0); total == 0 || busy > total {
		t.Fatalf("cpu0 busy %d total %d", busy, total)
	}
}
