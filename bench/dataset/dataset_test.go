package dataset

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestGenerateCounts(t *testing.T) {
	s := Generate("Bench.Test", 1000, 200)
	if s.Zone != "bench.test." {
		t.Fatalf("zone %q", s.Zone)
	}
	n6 := 0
	seen := map[string]bool{}
	for _, svc := range s.Services {
		if seen[svc.Name] || seen[svc.Blue.String()] {
			t.Fatalf("duplicate %s / %s", svc.Name, svc.Blue)
		}
		seen[svc.Name], seen[svc.Blue.String()] = true, true
		if svc.HasV6() {
			n6++
		}
	}
	if len(s.Services) != 1000 || n6 != 200 {
		t.Fatalf("services %d, with v6 %d", len(s.Services), n6)
	}
}

func TestQueryMix(t *testing.T) {
	s := Generate("bench.test.", 1000, 200)
	qs := s.Queries(100000, 1)
	var a, aaaa, nx int
	for _, q := range qs {
		switch {
		case strings.HasPrefix(q.Name, "nx"):
			nx++
		case q.Type == "AAAA":
			aaaa++
		default:
			a++
		}
	}
	near := func(got, want int) bool { return got > want*95/100 && got < want*105/100 }
	if !near(a, 80000) || !near(aaaa, 10000) || !near(nx, 10000) {
		t.Fatalf("mix A=%d AAAA=%d NX=%d", a, aaaa, nx)
	}
	if qs2 := s.Queries(100000, 1); qs2[123] != qs[123] {
		t.Fatal("queries are not deterministic")
	}
}

func TestZoneFileParses(t *testing.T) {
	s := Generate("bench.test.", 50, 10)
	var buf bytes.Buffer
	if err := s.WriteZoneFile(&buf, 7); err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(&buf, "", "")
	counts := map[uint16]int{}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		counts[rr.Header().Rrtype]++
		if rr.Header().Rrtype == dns.TypeA && strings.HasPrefix(rr.Header().Name, "svc") && rr.Header().Ttl != ServiceTTL {
			t.Fatalf("ttl %d", rr.Header().Ttl)
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	if counts[dns.TypeSOA] != 1 || counts[dns.TypeNS] != 1 || counts[dns.TypeA] != 51 || counts[dns.TypeAAAA] != 10 {
		t.Fatalf("counts %v", counts)
	}
}

func TestServiceJSON(t *testing.T) {
	s := Generate("bench.test.", 10, 1)
	var v struct {
		TTL  int `json:"ttl"`
		Blue struct {
			Addresses []string `json:"addresses"`
		} `json:"blue"`
	}
	if err := json.Unmarshal(ServiceJSON(s.Services[0]), &v); err != nil {
		t.Fatal(err)
	}
	if v.TTL != 5 || len(v.Blue.Addresses) != 2 {
		t.Fatalf("%+v", v)
	}
	if err := json.Unmarshal(s.ZoneJSON(), &map[string]any{}); err != nil {
		t.Fatal(err)
	}
}
