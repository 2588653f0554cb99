package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// TestJoinValidationAgrees runs the same join requests through Node.Join
// and the API's join handler: both refuse exactly the same ones.
func TestJoinValidationAgrees(t *testing.T) {
	c := newTestCluster(t, 1)
	n := c.leader().n
	srv := httptest.NewServer(api.NewHandler(apitest.New(), api.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()

	cases := []struct {
		req   peer.JoinRequest
		valid bool
	}{
		{peer.JoinRequest{}, false},
		{peer.JoinRequest{ID: "n2"}, false},
		{peer.JoinRequest{ID: "n2", RaftAddr: "a b:1"}, false},
		{peer.JoinRequest{ID: "n2", RaftAddr: "nowhere"}, false},
		{peer.JoinRequest{ID: "n/2", RaftAddr: "127.0.0.1:7101"}, false},
		{peer.JoinRequest{ID: strings.Repeat("n", peer.MaxNodeID+1), RaftAddr: "127.0.0.1:7101"}, false},
		{peer.JoinRequest{ID: "n2", RaftAddr: "127.0.0.1:7101", HTTPAddr: "ftp://x"}, false},
		{peer.JoinRequest{ID: "n2", RaftAddr: "127.0.0.1:7101", DNSAddr: "nowhere"}, false},
		{peer.JoinRequest{ID: "j2", RaftAddr: "127.0.0.1:7102", HTTPAddr: "127.0.0.1:8060", NonVoter: true}, true},
		{peer.JoinRequest{ID: "j3", RaftAddr: "127.0.0.1:7103", HTTPAddr: "http://127.0.0.1:8061", NonVoter: true}, true},
		{peer.JoinRequest{ID: "j4", RaftAddr: "127.0.0.1:7104", HTTPAddr: "https://j4.example:8062", DNSAddr: "[::1]:53", NonVoter: true}, true},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := n.Join(ctx, tc.req)
		cancel()
		nodeRefused := control.CodeOf(err) == control.CodeInvalid
		if !nodeRefused && err != nil {
			t.Errorf("node join %+v: %v", tc.req, err)
		}

		body, _ := json.Marshal(tc.req)
		res, err := http.Post(srv.URL+"/v1/cluster/join", "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		apiRefused := res.StatusCode == http.StatusUnprocessableEntity
		if !apiRefused && res.StatusCode != http.StatusOK {
			t.Errorf("api join %+v: status %d", tc.req, res.StatusCode)
		}

		if nodeRefused != apiRefused || nodeRefused == tc.valid {
			t.Errorf("%s: node refused %v, api refused %v, want valid %v", describe(tc.req), nodeRefused, apiRefused, tc.valid)
		}
	}
}

func describe(r peer.JoinRequest) string {
	return fmt.Sprintf("id=%q raft=%q http=%q dns=%q", r.ID, r.RaftAddr, r.HTTPAddr, r.DNSAddr)
}

// TestJoinRecordsHostPortAsURL: an http_addr given as host:port is
// recorded as the URL the members call.
func TestJoinRecordsHostPortAsURL(t *testing.T) {
	c := newTestCluster(t, 1)
	l := c.leader()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := peer.JoinRequest{ID: "e9", RaftAddr: "127.0.0.1:7999", HTTPAddr: "127.0.0.1:8060", NonVoter: true}
	if err := l.n.Join(ctx, req); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "member metadata", func() bool {
		return l.n.fsm.Members()["e9"].HTTPAddr == "http://127.0.0.1:8060"
	})
}
