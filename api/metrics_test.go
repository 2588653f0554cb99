package api

import (
	"net/http"
	"strings"
	"testing"
)

// /metrics needs what /v1 reads need: with ACLs on, a token (read is the
// least role); without one it is 401. A scoped token is refused: the
// metrics name every service.
func TestMetricsNeedsReadRole(t *testing.T) {
	metricsBody := "bgdns_test_metric 1\n"
	m := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(metricsBody)) })
	a := newACLEnv(t, Options{Metrics: m})
	_, read := a.token("reader", "read")
	_, scoped := a.token("deployer", "deploy", "api.bg.example.com")

	if r := a.do("GET", "/metrics", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token: %d %s", r.status, r.body)
	}
	if r := a.do("GET", "/metrics", "", bearer("bgdns_not-a-token")...); r.status != http.StatusUnauthorized {
		t.Errorf("GET /metrics with an unknown token: %d", r.status)
	}
	for name, secret := range map[string]string{"read": read, "admin": a.admin} {
		r := a.do("GET", "/metrics", "", bearer(secret)...)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), metricsBody) {
			t.Errorf("GET /metrics with the %s token: %d %q", name, r.status, r.body)
		}
	}
	if r := a.do("GET", "/metrics", "", bearer(scoped)...); r.status != http.StatusForbidden {
		t.Errorf("GET /metrics with a scoped token: %d %s", r.status, r.body)
	}
	if r := a.do("POST", "/metrics", "", bearer(read)...); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", r.status)
	}
}

// Without a metrics handler there is no /metrics route.
func TestMetricsAbsentWithoutHandler(t *testing.T) {
	e := newEnv(t, Options{})
	if r := e.do("GET", "/metrics", ""); r.status != http.StatusNotFound {
		t.Errorf("GET /metrics: %d", r.status)
	}
}
