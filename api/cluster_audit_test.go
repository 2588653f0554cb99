package api

import (
	"net/http"
	"testing"

	"github.com/bgdns/bgdns/control"
)

func TestMembershipIsAudited(t *testing.T) {
	a := newACLEnv(t, Options{})
	join := `{"id":"n4","raft_addr":"127.0.0.1:7056","http_addr":"http://127.0.0.1:8056"}`
	var m MembershipChange
	a.must(http.StatusOK, "POST", "/v1/cluster/join", join, append(bearer(a.admin), HeaderRequestID, "join-n4", HeaderActor, "alice")...).decode(t, &m)
	if m.AuditIndex == 0 || m.RequestID != "join-n4" {
		t.Fatalf("join: %+v", m)
	}
	// A retry with the same request id, and a node joining again unchanged,
	// add no second record.
	a.must(http.StatusOK, "POST", "/v1/cluster/join", join, append(bearer(a.admin), HeaderRequestID, "join-n4")...)
	a.must(http.StatusOK, "POST", "/v1/cluster/join", join, bearer(a.admin)...)
	a.must(http.StatusOK, "DELETE", "/v1/cluster/members/n4", "", bearer(a.admin)...)
	var al AuditList
	a.must(http.StatusOK, "GET", "/v1/audit", "", bearer(a.admin)...).decode(t, &al)
	var joins, removes []control.Record
	for _, r := range al.Records {
		switch r.Action {
		case control.OpMemberJoin:
			joins = append(joins, r)
		case control.OpMemberRemove:
			removes = append(removes, r)
		}
	}
	if len(joins) != 1 || len(removes) != 1 {
		t.Fatalf("audit %+v", al.Records)
	}
	if j := joins[0]; j.Target != "n4" || j.Actor != "bootstrap" || j.OnBehalfOf != "alice" || j.RequestID != "join-n4" || j.To != "127.0.0.1:7056" {
		t.Fatalf("join record %+v", j)
	}
	if len(a.b.Joined()) != 3 || len(a.b.Removed()) != 1 {
		t.Fatalf("joined %d, removed %d", len(a.b.Joined()), len(a.b.Removed()))
	}
}
