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
	if r := RunCLI(t, dead, "--retry-for", "500ms", "status"); r.Code != 5 || !strings.Contains(r.Stderr, "unavailable") {
		t.Errorf("unreachable server: want exit 5 and a message:\n%s", r)
	}
}

// TestAPIToken runs a node with --api-token: /v1 wants the bearer token
// (from the CLI's --token or BGDNS_TOKEN), the health endpoints do not.
func TestAPIToken(t *testing.T) {
	const token = "e2e-token-5b1f"
	n := StartNode(t, NodeOptions{ID: "t1", Bootstrap: true, Args: []string{"--api-token", token}})

	if r := Call(t, "GET", n.URL()+"/v1/services", nil); r.Status != 401 && r.Status != 403 {
		t.Errorf("%s (want 401 without the token)", r)
	}
	if r, err := CallHeaders("GET", n.URL()+"/v1/services", nil,
		map[string]string{"Authorization": "Bearer wrong"}); err != nil || (r.Status != 401 && r.Status != 403) {
		t.Errorf("%v %s (want 401 with a wrong token)", err, r)
	}
	if r, err := CallHeaders("GET", n.URL()+"/v1/services", nil,
		map[string]string{"Authorization": "Bearer " + token}); err != nil || r.Status != 200 {
		t.Errorf("%v %s (want 200 with the token)", err, r)
	}
	Expect(t, 200, "GET", n.URL()+"/readyz", nil)

	if r := RunCLI(t, n.URL(), "service", "list"); r.Code == 0 {
		t.Errorf("CLI without the token: want a non-zero exit\n%s", r)
	}
	n.CLI("--token", token, "service", "put", svcName, "--blue", blueV4[0], "--blue-version", "1.0")
	r := RunCLIEnv(t, []string{"BGDNS_TOKEN=" + token}, n.URL(), "service", "list")
	if r.Code != 0 || !strings.Contains(r.Stdout, svcName) {
		t.Errorf("CLI with BGDNS_TOKEN:\n%s", r)
	}
}
