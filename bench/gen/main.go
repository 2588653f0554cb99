// Command gen writes the benchmark data set: a zone file (as NSD and Knot
// load it) and a dnsperf query file.
//
//	go run ./bench/gen -out bench/out/data -services 1000 -aaaa 200
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bgdns/bgdns/bench/dataset"
)

func main() {
	out := flag.String("out", "bench/out/data", "output directory")
	zone := flag.String("zone", dataset.DefaultZone, "zone name")
	n := flag.Int("services", 1000, "number of services")
	n6 := flag.Int("aaaa", 200, "how many of them also have AAAA records")
	nq := flag.Int("queries", 100000, "number of queries in the dnsperf file")
	seed := flag.Uint64("seed", 1, "random seed of the query mix")
	flag.Parse()
	if err := run(*out, *zone, *n, *n6, *nq, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, zone string, n, n6, nq int, seed uint64) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	set := dataset.Generate(zone, n, n6)
	zf, err := os.Create(filepath.Join(out, "zone.db"))
	if err != nil {
		return err
	}
	if err := set.WriteZoneFile(zf, 1); err != nil {
		zf.Close()
		return err
	}
	if err := zf.Close(); err != nil {
		return err
	}
	qf, err := os.Create(filepath.Join(out, "queries.txt"))
	if err != nil {
		return err
	}
	if err := dataset.WriteQueries(qf, set.Queries(nq, seed)); err != nil {
		qf.Close()
		return err
	}
	return qf.Close()
}
