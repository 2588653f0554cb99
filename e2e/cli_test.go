package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCLIFailures checks the client's contract around failure: a non-zero
// exit and a message on stderr for every mistake, nothing changed by it,
// BGDNS_SERVER honoured, and an unreachable server reported as such.
func TestCLIFailures(t *testing.T) {
	n := StartNode(t, NodeOptions{ID: "e1", Bootstrap: true})
	n.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")

	for _, args := range [][]string{
		{"service", "get", "nope.bg.example.test"},
		{"switch", svcName},                   // green has no pool
		{"rollback", svcName},                 // nothing to roll back
		{"complete", svcName},                 // nothing to complete
		{"switch", svcName, "--to", "purple"}, // no such colour
		{"deploy", svcName, "--version", "2.0", "--addr", "10.0.0.300"},
		{"service", "put", "api.elsewhere.test", "--blue", "10.0.0.1", "--blue-version", "1"},
		{"history", "nope.bg.example.test"},
	} {
		r := RunCLI(t, n.URL(), args...)
		if r.Code == 0 || strings.TrimSpace(r.Stderr) == "" {
			t.Errorf("want a non-zero exit and a message on stderr:\n%s", r)
		}
		t.Logf("bgdns %s: exit %d: %s", strings.Join(args, " "), r.Code, strings.TrimSpace(r.Stderr))
	}

	// Nothing above changed the service.
	var s ServiceJSON
	CLIJSON(t, n.URL(), &s, "service", "get", svcName)
	if s.Active != "blue" || s.State != "stable" || s.Green != nil {
		t.Fatalf("failed commands changed the service: %+v", s)
	}

	// BGDNS_SERVER instead of --server.
	r := RunCLIEnv(t, []string{"BGDNS_SERVER=" + n.URL()}, "", "service", "list", "-o", "json")
	if r.Code != 0 || !json.Valid([]byte(r.Stdout)) || !strings.Contains(r.Stdout, svcName) {
		t.Fatalf("BGDNS_SERVER: %s", r)
	}

	// A server nobody listens on.
	dead := "http://" + freeTCPAddr(t, "127.0.0.1")
	if r := RunCLI(t, dead, "status"); r.Code == 0 || strings.TrimSpace(r.Stderr) == "" {
		t.Errorf("unreachable server: want a non-zero exit and a message:\n%s", r)
	}
}
