package dnsserver

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/dns")

// TestZoneTransferGolden keeps the zone a secondary receives for the test
// state in testdata/dns as zone text (go test -run Golden -update rewrites it).
func TestZoneTransferGolden(t *testing.T) {
	src := newTestSource(t)
	var b strings.Builder
	for _, rr := range ZoneRecords(src.State(), testZone, false) {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	path := filepath.Join("..", "testdata", "dns", "bg.example.test.axfr")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("zone transfer differs from %s:\n got:\n%s\nwant:\n%s", path, b.String(), want)
	}
	// the golden file is valid zone text
	zp := dns.NewZoneParser(strings.NewReader(string(want)), "", path)
	n := 0
	for _, ok := zp.Next(); ok; _, ok = zp.Next() {
		n++
	}
	if err := zp.Err(); err != nil || n == 0 {
		t.Fatalf("golden file does not parse: %v (%d records)", err, n)
	}
}
