package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// headerSpy records the headers of requests reaching the leader.
type headerSpy struct {
	mu   sync.Mutex
	seen []http.Header
	next http.Handler
}

func (s *headerSpy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	s.mu.Unlock()
	s.next.ServeHTTP(w, r)
}

func (s *headerSpy) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[len(s.seen)-1]
}

func TestForwardToLeader(t *testing.T) {
	spy := &headerSpy{}
	leader := newEnvWrap(t, Options{Token: "s3cret"}, func(h http.Handler) http.Handler {
		spy.next = h
		return spy
	})
	auth := []string{"Authorization", "Bearer s3cret"}
	leader.hdr = auth
	leader.seed()

	follower := newEnv(t, Options{Token: "s3cret"})
	follower.b.SetFollower(leader.srv.URL)

	m := follower.mutation("POST", "/v1/services/api.bg.example.com/deploy?wait=all",
		`{"version":"2.0","addresses":["10.0.0.21"],"reason":"via follower"}`, auth...)
	if m.Service == nil || m.Service.State != "deployed" || m.Wait == nil || !m.Wait.Complete {
		t.Fatalf("forwarded deploy: %+v", m)
	}
	if got := leader.b.State().Service("api.bg.example.com.").State; got != "deployed" {
		t.Fatalf("leader state %q", got)
	}
	if n := len(follower.b.Proposals()); n != 0 {
		t.Fatalf("follower applied %d commands", n)
	}
	h := spy.last()
	if h.Get(HeaderForwarded) != "1" || h.Get(HeaderRequestID) != m.RequestID || h.Get(HeaderActor) != "api@127.0.0.1" {
		t.Fatalf("forwarded headers: %v", h)
	}
	// The leader stamped the command (its handler runs on the forwarded request).
	last := leader.b.Proposals()[len(leader.b.Proposals())-1]
	if last.Reason != "via follower" || last.Time.IsZero() || last.RequestID != m.RequestID {
		t.Fatalf("leader's command: %+v", last)
	}

	// Errors come back as the leader gave them, with the current service.
	r := follower.must(http.StatusConflict, "POST", "/v1/services/api.bg.example.com/switch", `{"expect_revision":1}`, auth...)
	if er := errorOf(t, r); er.Service == nil {
		t.Fatalf("forwarded 409: %s", r.body)
	}
	// Reads are served locally, never forwarded.
	follower.must(http.StatusNotFound, "GET", "/v1/services/api.bg.example.com", "", auth...)

	// Membership changes are forwarded too.
	follower.must(http.StatusOK, "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7060"}`, auth...)
	if j := leader.b.Joined(); len(j) != 1 || j[0].ID != "n4" {
		t.Fatalf("leader joins: %+v", j)
	}
	follower.must(http.StatusOK, "DELETE", "/v1/cluster/members/n4", "", auth...)
	if rm := leader.b.Removed(); len(rm) != 1 || rm[0] != "n4" {
		t.Fatalf("leader removes: %+v", rm)
	}
}

func TestForwardLoopProtection(t *testing.T) {
	a := newEnv(t, Options{})
	b := newEnv(t, Options{})
	// Each believes the other leads.
	a.b.SetFollower(b.srv.URL)
	b.b.SetFollower(a.srv.URL)
	r := a.must(http.StatusServiceUnavailable, "PUT", "/v1/zones/bg.example.com", zoneBody)
	if er := errorOf(t, r); er.Code != "no_leader" {
		t.Fatalf("code %q", er.Code)
	}
	// A request already forwarded once is not forwarded again.
	r = a.must(http.StatusServiceUnavailable, "PUT", "/v1/zones/bg.example.com", zoneBody, HeaderForwarded, "1")
	if er := errorOf(t, r); er.Code != "no_leader" || er.Leader != b.srv.URL {
		t.Fatalf("forwarded request: %s", r.body)
	}
	if len(a.b.Proposals())+len(b.b.Proposals()) != 0 {
		t.Fatal("something was applied")
	}
}

func TestForwardLeaderDown(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	e := newEnv(t, Options{})
	e.b.SetFollower(url)
	r := e.must(http.StatusServiceUnavailable, "PUT", "/v1/zones/bg.example.com", zoneBody)
	if er := errorOf(t, r); er.Code != "no_leader" {
		t.Fatalf("code %q", er.Code)
	}
	// No known leader address at all.
	e.b.SetFollower("not a url")
	errorOf(t, e.must(http.StatusServiceUnavailable, "PUT", "/v1/zones/bg.example.com", zoneBody))
	e.b.SetFollower("")
	e.b.SetNoLeader(true)
	if er := errorOf(t, e.must(http.StatusServiceUnavailable, "PUT", "/v1/zones/bg.example.com", zoneBody)); er.Code != "no_leader" {
		t.Fatalf("code %q", er.Code)
	}
}

func TestForwardToHostPortLeader(t *testing.T) {
	leader := newEnv(t, Options{})
	follower := newEnv(t, Options{})
	follower.b.SetFollower(strings.TrimPrefix(leader.srv.URL, "http://"))
	m := follower.mutation("PUT", "/v1/zones/bg.example.com", zoneBody)
	if m.Zone == nil || leader.b.State().Zone("bg.example.com.") == nil {
		t.Fatalf("forwarded to host:port: %+v", m)
	}
}

func TestMaxStaleStamped(t *testing.T) {
	e := newEnv(t, Options{MaxStale: 3 * time.Second})
	e.seed()
	if got := e.b.Proposals()[1].MaxStale.D(); got != 3*time.Second {
		t.Fatalf("max_stale %s", got)
	}
}

// TestForwardTimesOut: a leader that accepts the connection but never
// answers (cut off, paused) costs the client ForwardTimeout, then 503
// no_leader, not the minute a hung request would.
func TestForwardTimesOut(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hung.Close()
	defer close(release)
	e := newEnv(t, Options{ForwardTimeout: 100 * time.Millisecond})
	e.b.SetFollower(hung.URL)
	done := make(chan resp, 1)
	go func() { done <- e.do("PUT", "/v1/zones/bg.example.com", zoneBody) }()
	select {
	case r := <-done:
		if r.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		if er := errorOf(t, r); er.Code != "no_leader" {
			t.Fatalf("code %q", er.Code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the forwarded request hung")
	}
}
