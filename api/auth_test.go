package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/peer"
)

func TestTokenAuth(t *testing.T) {
	e := newEnv(t, Options{Token: "s3cret"})
	for _, hdr := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "s3cret"}, {"Authorization", "Basic czNjcmV0"}} {
		r := e.must(http.StatusUnauthorized, "GET", "/v1/services", "", hdr...)
		if er := errorOf(t, r); er.Code != "unauthorized" || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%v: %s", hdr, r.body)
		}
	}
	errorOf(t, e.must(http.StatusUnauthorized, "PUT", "/v1/zones/bg.example.com", zoneBody))
	if n := len(e.b.Proposals()); n != 0 {
		t.Fatalf("unauthenticated write applied: %d", n)
	}
	e.must(http.StatusOK, "GET", "/v1/services", "", "Authorization", "Bearer s3cret")
	e.must(http.StatusOK, "PUT", "/v1/zones/bg.example.com", zoneBody, "Authorization", "Bearer s3cret")
	// Health endpoints stay open.
	e.must(http.StatusOK, "GET", "/healthz", "")
	e.must(http.StatusOK, "GET", "/readyz", "")
}

func TestHealth(t *testing.T) {
	e := newEnv(t, Options{})
	var h Health
	e.must(http.StatusOK, "GET", "/healthz", "").decode(t, &h)
	if h.Status != "ok" {
		t.Fatalf("healthz: %+v", h)
	}
	e.must(http.StatusOK, "GET", "/readyz", "").decode(t, &h)
	if h.Status != "ready" {
		t.Fatalf("readyz: %+v", h)
	}
	e.b.SetReady(apitest.ErrNotReady)
	e.must(http.StatusServiceUnavailable, "GET", "/readyz", "").decode(t, &h)
	if h.Status != "unavailable" || h.Reason != apitest.ErrNotReady.Error() {
		t.Fatalf("readyz not ready: %+v", h)
	}
	// A diverged node is told apart by the error's identity, not its words.
	e.b.SetReady(fmt.Errorf("log differs at index 7: %w", peer.ErrDiverged))
	e.must(http.StatusServiceUnavailable, "GET", "/readyz", "").decode(t, &h)
	if h.Status != "diverged" {
		t.Fatalf("readyz of a diverged node: %+v", h)
	}
	e.b.SetReady(errors.New("catching up: the log diverged from nothing yet"))
	e.must(http.StatusServiceUnavailable, "GET", "/readyz", "").decode(t, &h)
	if h.Status != "unavailable" {
		t.Fatalf("readyz of a node whose reason merely says \"diverged\": %+v", h)
	}
	// Liveness does not depend on readiness.
	e.must(http.StatusOK, "GET", "/healthz", "")
	e.b.SetReady(errors.New("x"))
}

func TestNewServerTimeouts(t *testing.T) {
	s := NewServer("127.0.0.1:0", http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= DefaultMaxWaitTimeout ||
		s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 || s.Addr != "127.0.0.1:0" {
		t.Fatalf("server: %+v", s)
	}
}
