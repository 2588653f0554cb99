package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/bgdns/bgdns/control"
)

func TestPaginationWalksAllServices(t *testing.T) {
	if testing.Short() {
		t.Skip("12,000 services")
	}
	e := newEnv(t, Options{})
	e.mutation("PUT", "/v1/zones/bg.example.com", zoneBody)
	const total = 12000
	for i := 0; i < total; i++ {
		res, err := e.b.Propose(context.Background(), control.Command{Op: control.OpServicePut,
			Name: fmt.Sprintf("s%05d.bg.example.com", i), Service: &control.ServiceSpec{
				Blue: &control.Pool{Version: "1", Addresses: mustAddrs("10.0.0.1")}}})
		if err != nil || res.Err != nil {
			t.Fatal(err, res.Err)
		}
	}
	for _, limit := range []string{"", "5000", "777"} {
		seen := map[string]bool{}
		prev, cursor, pages := "", "", 0
		for {
			q := url.Values{}
			if limit != "" {
				q.Set("limit", limit)
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var l ServiceList
			e.must(http.StatusOK, "GET", "/v1/services?"+q.Encode(), "").decode(t, &l)
			pages++
			max := DefaultPageLimit
			if limit != "" {
				fmt.Sscan(limit, &max)
			}
			if len(l.Services) > max {
				t.Fatalf("page of %d, limit %d", len(l.Services), max)
			}
			for _, s := range l.Services {
				if seen[s.Name] || s.Name <= prev {
					t.Fatalf("limit %s: %s repeated or out of order", limit, s.Name)
				}
				seen[s.Name], prev = true, s.Name
			}
			if l.NextCursor == "" {
				break
			}
			cursor = l.NextCursor
		}
		if len(seen) != total {
			t.Fatalf("limit %q: walked %d of %d services in %d pages", limit, len(seen), total, pages)
		}
		want := (total + DefaultPageLimit - 1) / DefaultPageLimit
		if limit == "" && pages != want {
			t.Fatalf("%d pages, want %d", pages, want)
		}
	}
}

func TestPaginationParams(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	for _, q := range []string{"limit=5001", "limit=0", "limit=-1", "limit=x", "cursor=%25%25", "cursor="} {
		r := e.do("GET", "/v1/services?"+q, "")
		if q == "cursor=" {
			if r.status != http.StatusOK {
				t.Errorf("%s: %d", q, r.status)
			}
			continue
		}
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	e.must(http.StatusOK, "GET", "/v1/services?limit=5000", "")
	// One page holds everything: no next_cursor, and the shape is as before.
	var raw map[string]any
	e.must(http.StatusOK, "GET", "/v1/services", "").decode(t, &raw)
	if _, ok := raw["next_cursor"]; ok || len(raw) != 1 {
		t.Fatalf("single page: %v", raw)
	}
	e.mutation("PUT", "/v1/zones/other.test", `{"ns":["ns.example.net"]}`)
	var zl ZoneList
	e.must(http.StatusOK, "GET", "/v1/zones?limit=1", "").decode(t, &zl)
	if len(zl.Zones) != 1 || zl.NextCursor == "" {
		t.Fatalf("zones page 1: %+v", zl)
	}
	cur := zl.NextCursor
	zl = ZoneList{}
	e.must(http.StatusOK, "GET", "/v1/zones?limit=1&cursor="+cur, "").decode(t, &zl)
	if len(zl.Zones) != 1 || zl.Zones[0].Name != "other.test" || zl.NextCursor != "" {
		t.Fatalf("zones page 2: %+v", zl)
	}
	var al AuditList
	e.must(http.StatusOK, "GET", "/v1/audit?limit=1", "").decode(t, &al)
	if len(al.Records) != 1 || al.Records[0].Target != "other.test." || al.NextCursor == "" {
		t.Fatalf("audit page 1: %+v", al)
	}
	cur = al.NextCursor
	al = AuditList{}
	e.must(http.StatusOK, "GET", "/v1/audit?limit=1&cursor="+cur, "").decode(t, &al)
	if len(al.Records) != 1 || al.Records[0].Target != "bg.example.com." || al.NextCursor != "" {
		t.Fatalf("audit page 2: %+v", al)
	}
}
