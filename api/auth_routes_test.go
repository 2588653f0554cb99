package api

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/api/apitest"
)

// Every write route refuses a read token: no route was left without its
// authorization (a new route must say which role it needs).
func TestEveryWriteRouteIsAuthorized(t *testing.T) {
	a := newACLEnv(t, Options{})
	_, read := a.token("reader", "read")
	h := NewHandler(apitest.New(), Options{ACL: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	n := 0
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if method == http.MethodGet || method == http.MethodHead || !strings.HasPrefix(route, "/v1/") {
			return nil
		}
		path := strings.NewReplacer("{fqdn}", "api.bg.example.com", "{zone}", "bg.example.com", "{id}", "n2", "/*", "").Replace(route)
		path = strings.TrimSuffix(path, "/")
		r := a.do(method, path, "{}", bearer(read)...)
		n++
		switch {
		case path == "/v1/acl/bootstrap":
			if r.status != http.StatusConflict {
				t.Errorf("%s %s: %d", method, path, r.status)
			}
		case r.status != http.StatusForbidden:
			t.Errorf("%s %s with a read token: %d %s", method, path, r.status, r.body)
		}
		return nil
	})
	if err != nil || n < 15 {
		t.Fatalf("walked %d write routes: %v", n, err)
	}
}

// memberRequest is a request over TLS whose verified client certificate
// names server.bgdns, as another node's would.
func memberRequest(method, path, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "n2"}, DNSNames: []string{"n2.example", MemberServerName}}
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}
	return r
}

func TestClusterMemberCertificateOnlyReads(t *testing.T) {
	b := apitest.New()
	h := NewHandler(b, Options{ACL: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	serve := func(r *http.Request) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, p := range []string{"/v1/cluster/self", "/v1/cluster", "/v1/services", "/v1/zones"} {
		if c := serve(memberRequest("GET", p, "")); c != http.StatusOK {
			t.Errorf("member GET %s: %d", p, c)
		}
	}
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/v1/cluster/join", `{"id":"n9","raft_addr":"127.0.0.1:7059"}`},
		{"DELETE", "/v1/cluster/members/n2", ""},
		{"PUT", "/v1/zones/bg.example.com", zoneBody},
		{"POST", "/v1/acl/bootstrap", ""},
		{"GET", "/v1/acl/tokens", ""},
	} {
		if c := serve(memberRequest(w.method, w.path, w.body)); c != http.StatusForbidden {
			t.Errorf("member %s %s: %d, want 403", w.method, w.path, c)
		}
	}
	if len(b.Proposals()) != 0 || len(b.Joined()) != 0 || len(b.Removed()) != 0 {
		t.Fatal("a member certificate changed something")
	}
	// Without a verified chain, or without the server name, it is nobody.
	r := memberRequest("GET", "/v1/cluster/self", "")
	r.TLS.VerifiedChains = nil
	if c := serve(r); c != http.StatusUnauthorized {
		t.Errorf("unverified certificate: %d", c)
	}
	r = memberRequest("GET", "/v1/cluster/self", "")
	r.TLS.PeerCertificates[0].DNSNames = []string{"client.bgdns"}
	if c := serve(r); c != http.StatusUnauthorized {
		t.Errorf("certificate without server.bgdns: %d", c)
	}
}

// A follower forwards a write with the client's Authorization; the leader
// authorizes it again and names the token.
func TestForwardKeepsAuthorization(t *testing.T) {
	var seen http.Header
	leader := newEnvWrap(t, Options{ACL: true, Token: "mgmt"}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = r.Header.Clone()
			h.ServeHTTP(w, r)
		})
	})
	follower := newEnv(t, Options{ACL: true, Token: "mgmt"})
	follower.b.SetFollower(leader.srv.URL)
	follower.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, append(bearer("mgmt"), HeaderActor, "alice")...)
	if seen.Get("Authorization") != "Bearer mgmt" || seen.Get(HeaderForwarded) != "1" {
		t.Fatalf("forwarded headers %v", seen)
	}
	p := leader.b.Proposals()
	if len(p) != 1 || p[0].Actor != ManagementActor || p[0].OnBehalfOf != "alice" {
		t.Fatalf("leader proposals %+v", p)
	}
	// Without the token the leader refuses, even forwarded.
	follower.must(http.StatusUnauthorized, "PUT", "/v1/zones/bg.example.com", zoneBody)
	if len(leader.b.Proposals()) != 1 {
		t.Fatal("an unauthenticated write reached the leader's log")
	}
}
