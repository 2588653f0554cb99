package main

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/control"
)

func TestCLIHealthFlagsGateAndFreeze(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.cli("zone", "put", "bg.example.com", "--ns", "ns1.bg.example.com", "--glue", "ns1.bg.example.com=127.0.0.1")
	out := e.cli("service", "put", "api.bg.example.com", "--blue", "10.0.0.11", "--blue-version", "1.0",
		"--green", "10.0.0.21,10.0.0.22", "--green-version", "2.0",
		"--health-type", "http", "--health-port", "8081", "--health-path", "/healthz", "--health-interval", "1s",
		"--health-rise", "3", "--validation-window", "5m", "--auto-rollback", "--min-switch-interval", "1m", "--fail-closed")
	wantLines(t, out, "HEALTH CHECK", "http :8081/healthz every 1s (timeout 500ms, rise 3, fall 2)",
		"VALIDATION", "5m0s, auto rollback", "MIN INTERVAL", "1m0s", "NONE HEALTHY", "green", "0/2 healthy")

	r := runCLI(t, e.srv.URL, "switch", "api.bg.example.com")
	if r.code == 0 || !strings.Contains(r.stderr, "min_healthy") {
		t.Fatalf("gated switch: %+v", r)
	}
	if _, err := e.b.Propose(context.Background(), control.Command{Op: control.OpHealth, Name: "api.bg.example.com.",
		Time: time.Now().UTC(), Actor: "bgdns", Health: &control.HealthSpec{Changes: []control.HealthChange{
			{Addr: netip.MustParseAddr("10.0.0.11"), Status: control.HealthUp}}}}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, e.cli("service", "list"), "HEALTHY", "1/1")
	wantLines(t, e.cli("status"), "HEALTHY", "1/1")
	out = e.cli("switch", "api.bg.example.com", "--force", "--reason", "checks not deployed yet")
	wantLines(t, out, "ACTIVE", "green", "SAFE TO RETIRE")
	wantLines(t, e.cli("history", "api.bg.example.com"), "[override: green has 0 of 2")

	e.cli("freeze", "bg.example.com", "--zone", "--reason", "holiday")
	e.cli("rollback", "api.bg.example.com")
	r = runCLI(t, e.srv.URL, "switch", "api.bg.example.com")
	if r.code == 0 || !strings.Contains(r.stderr, "zone bg.example.com is frozen") {
		t.Fatalf("frozen zone: %+v", r)
	}
	e.cli("unfreeze", "bg.example.com", "--zone")
	r = runCLI(t, e.srv.URL, "complete", "api.bg.example.com")
	if r.code == 0 || !strings.Contains(r.stderr, "safe_to_retire_at") {
		t.Fatalf("early complete: %+v", r)
	}
	e.cli("complete", "api.bg.example.com", "--force", "--reason", "green torn down")

	// --health-type none removes the check
	out = e.cli("service", "put", "api.bg.example.com", "--blue", "10.0.0.11", "--blue-version", "1.0", "--health-type", "none")
	if strings.Contains(out, "HEALTH CHECK") {
		t.Fatalf("health check not removed:\n%s", out)
	}
}
