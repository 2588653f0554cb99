package peer

import (
	"strings"
	"testing"

	"github.com/bgdns/bgdns/control"
)

func TestJoinRequestValidate(t *testing.T) {
	for _, req := range []JoinRequest{
		{},
		{ID: "n2"},
		{ID: "n2", RaftAddr: "a b:1"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", HTTPAddr: "ftp://x"},
		{ID: "n 2", RaftAddr: "127.0.0.1:1"},
		{ID: strings.Repeat("n", MaxNodeID+1), RaftAddr: "127.0.0.1:1"},
		{ID: "n2", RaftAddr: "nowhere"},
		{ID: "n2", RaftAddr: "127.0.0.1:0"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", DNSAddr: "127.0.0.1"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", Role: "observer"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", Role: "Edge"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", Role: RoleVoter, NonVoter: true},
	} {
		if err := req.Validate(); control.CodeOf(err) != control.CodeInvalid {
			t.Errorf("%+v: %v", req, err)
		}
	}
	for _, req := range []JoinRequest{
		{ID: "n2", RaftAddr: "127.0.0.1:1", HTTPAddr: "http://127.0.0.1:2"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", HTTPAddr: "https://n2.example:8053"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", HTTPAddr: "127.0.0.1:8060", DNSAddr: "[::1]:53"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", Role: RoleVoter},
		{ID: "n2", RaftAddr: "127.0.0.1:1", Role: RoleEdge},
		{ID: "n2", RaftAddr: "127.0.0.1:1", Role: RoleEdge, NonVoter: true},
	} {
		if err := req.Validate(); err != nil {
			t.Errorf("%+v: %v", req, err)
		}
	}
}

func TestJoinRequestRole(t *testing.T) {
	for _, tc := range []struct {
		req  JoinRequest
		want string
	}{
		{JoinRequest{}, RoleVoter},
		{JoinRequest{Role: RoleVoter}, RoleVoter},
		{JoinRequest{Role: RoleEdge}, RoleEdge},
		{JoinRequest{NonVoter: true}, RoleEdge},
	} {
		if got := tc.req.MemberRole(); got != tc.want {
			t.Errorf("%+v: role %q, want %q", tc.req, got, tc.want)
		}
		if tc.req.Edge() != (tc.want == RoleEdge) {
			t.Errorf("%+v: Edge() %v", tc.req, tc.req.Edge())
		}
	}
}
