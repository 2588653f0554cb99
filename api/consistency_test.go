package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestReadIndexRoute: the leader answers a follower's confirmation with its
// commit index; a follower answers 503.
func TestReadIndexRoute(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	var ri struct {
		CommitIndex uint64 `json:"commit_index"`
	}
	e.must(http.StatusOK, "GET", "/v1/cluster/readindex", "").decode(t, &ri)
	if ri.CommitIndex == 0 || ri.CommitIndex != e.b.Applied() {
		t.Fatalf("commit index %d, applied %d", ri.CommitIndex, e.b.Applied())
	}
	e.b.SetFollower("http://127.0.0.1:1")
	e.must(http.StatusServiceUnavailable, "GET", "/v1/cluster/readindex", "")
}

// TestReadGate: reads say when they are stale and at which index;
// ?consistent fails without a leader; a node that does not serve answers
// 503 unless ?stale.
func TestReadGate(t *testing.T) {
	e := newEnv(t, Options{})
	e.seed()
	r := e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "")
	if r.header.Get(HeaderStale) != "" || r.header.Get(HeaderApplied) == "" {
		t.Fatalf("current read: headers %v", r.header)
	}
	e.b.SetStale(true)
	r = e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com", "")
	if r.header.Get(HeaderStale) != "true" {
		t.Fatalf("stale read: headers %v", r.header)
	}
	var h Health
	e.must(http.StatusOK, "GET", "/readyz", "").decode(t, &h)
	if h.Status != "stale" {
		t.Fatalf("readyz while stale: %+v", h)
	}
	e.b.SetNoLeader(true)
	e.must(http.StatusServiceUnavailable, "GET", "/v1/services/api.bg.example.com?consistent", "")
	e.b.SetNoLeader(false)
	r = e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com?consistent", "")
	if r.header.Get(HeaderStale) != "" {
		t.Fatal("a consistent read is marked stale")
	}
	e.b.SetReady(errStr("catching up: applied 3 of 9"))
	r = e.must(http.StatusServiceUnavailable, "GET", "/v1/services/api.bg.example.com", "")
	if !strings.Contains(string(r.body), "catching up") {
		t.Fatalf("not serving: %s", r.body)
	}
	r = e.must(http.StatusOK, "GET", "/v1/services/api.bg.example.com?stale", "")
	if r.header.Get(HeaderStale) != "true" {
		t.Fatal("?stale read of a node that does not serve is not marked")
	}
}

type errStr string

func (e errStr) Error() string { return string(e) }
