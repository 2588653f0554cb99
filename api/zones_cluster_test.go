package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

func TestZones(t *testing.T) {
	e := newEnv(t, Options{})
	// Every SOA field defaults; an out-of-zone NS needs no glue.
	m := e.mutation("PUT", "/v1/zones/other.test.", `{"ns":["ns.example.net."]}`)
	if z := m.Zone; z == nil || z.Name != "other.test" || z.SOA.MName != "ns1.other.test" || z.SOA.Minimum != control.DefaultSOAMinimum ||
		!slices.Equal(z.NS, []string{"ns.example.net"}) || z.Serial != 1 || z.Revision != 1 {
		t.Fatalf("zone put: %+v", m.Zone)
	}
	m = e.mutation("PUT", "/v1/zones/bg.example.com", `{"soa":{"minimum":60,"rname":"ops.example.com"},"ns":["ns1.bg.example.com","ns2.bg.example.com"],"glue":{"ns1.bg.example.com":["127.0.0.1","::1"],"ns2.bg.example.com":["127.0.0.2"]}}`)
	z := m.Zone
	if z.SOA.Minimum != 60 || z.SOA.RName != "ops.example.com" || !slices.Equal(z.Glue["ns1.bg.example.com"], []string{"127.0.0.1", "::1"}) {
		t.Fatalf("zone put: %+v", z)
	}
	var got Zone
	r := e.must(http.StatusOK, "GET", "/v1/zones/BG.example.com", "")
	r.decode(t, &got)
	if got.Name != "bg.example.com" || got.Serial != 2 || r.header.Get("ETag") != `"2"` {
		t.Fatalf("zone get: %+v", got)
	}
	var list ZoneList
	e.must(http.StatusOK, "GET", "/v1/zones", "").decode(t, &list)
	if len(list.Zones) != 2 || list.Zones[0].Name != "bg.example.com" {
		t.Fatalf("zone list: %+v", list)
	}
	// A service change moves the zone's serial on.
	e.mutation("PUT", "/v1/services/api.bg.example.com", svcBody)
	e.must(http.StatusOK, "GET", "/v1/zones/bg.example.com", "").decode(t, &got)
	if got.Serial != 3 {
		t.Fatalf("serial after service put: %d", got.Serial)
	}
	// A GET body can be put back as is.
	raw := e.must(http.StatusOK, "GET", "/v1/zones/bg.example.com", "").body
	e.mutation("PUT", "/v1/zones/bg.example.com", string(raw), "If-Match", `"3"`)
	errorOf(t, e.must(http.StatusConflict, "PUT", "/v1/zones/bg.example.com", string(raw), "If-Match", `"3"`))

	e.mutation("DELETE", "/v1/services/api.bg.example.com", "")
	m = e.mutation("DELETE", "/v1/zones/bg.example.com", `{"reason":"decommissioned"}`)
	if m.Zone == nil || m.Zone.Name != "bg.example.com" {
		t.Fatalf("zone delete: %+v", m)
	}
	errorOf(t, e.must(http.StatusNotFound, "GET", "/v1/zones/bg.example.com", ""))
}

func TestCluster(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	var c Cluster
	e.must(http.StatusOK, "GET", "/v1/cluster", "").decode(t, &c)
	if c.Self != "n1" || c.Leader == nil || c.Leader.ID != "n1" || len(c.Members) != 3 || c.CommitIndex != 2 || c.Members[1].Applied != 2 {
		t.Fatalf("cluster: %+v", c)
	}
	var self peer.NodeStatus
	e.must(http.StatusOK, "GET", "/v1/cluster/self", "").decode(t, &self)
	if self.ID != "n1" || self.Applied != 2 || !self.Leader {
		t.Fatalf("self: %+v", self)
	}
	var mc MembershipChange
	e.must(http.StatusOK, "POST", "/v1/cluster/join",
		`{"id":"n4","raft_addr":"127.0.0.1:7060","http_addr":"127.0.0.1:8060","dns_addr":"127.0.0.1:5360"}`).decode(t, &mc)
	if mc.Joined == nil || mc.Joined.ID != "n4" || len(e.b.Joined()) != 1 {
		t.Fatalf("join: %+v", mc)
	}
	errorOf(t, e.must(http.StatusConflict, "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7999"}`))
	e.must(http.StatusOK, "DELETE", "/v1/cluster/members/n4", "").decode(t, &mc)
	if mc.Removed != "n4" {
		t.Fatalf("remove: %+v", mc)
	}
	errorOf(t, e.must(http.StatusConflict, "DELETE", "/v1/cluster/members/n1", ""))

	// No leader: the cluster still answers, with a null leader.
	e.b.SetNoLeader(true)
	r := e.must(http.StatusOK, "GET", "/v1/cluster", "")
	r.decode(t, &c)
	if c.Leader != nil {
		t.Fatalf("leader without one: %s", r.body)
	}
	errorOf(t, e.must(http.StatusServiceUnavailable, "POST", "/v1/cluster/join", `{"id":"n5","raft_addr":"127.0.0.1:7061"}`))
}
