package e2e

import (
	"strconv"
	"strings"
	"testing"
)

// TestCLIExitCodes produces every exit code of `bgdns help exit-codes`
// once, each by a real failure against real nodes, and checks the code
// and what stderr says.
func TestCLIExitCodes(t *testing.T) {
	c := StartCluster(t, 3, ClusterOptions{})
	l := c.Leader()
	l.CLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	l.CLI("deploy", svcName, "--version", "2.0", "--addr", strings.Join(greenV4, ","))

	run := func(want int, why, server string, args ...string) CLIResult {
		t.Helper()
		r := RunCLI(t, server, args...)
		if r.Code != want {
			t.Fatalf("%s: want exit %d\n%s", why, want, r)
		}
		t.Logf("exit %d (%s): %s", r.Code, why, strings.TrimSpace(r.Stderr))
		return r
	}
	wantErr := func(r CLIResult, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(r.Stderr, p) {
				t.Fatalf("stderr lacks %q:\n%s", p, r)
			}
		}
	}

	// 0: a switch to the colour already active is a no-op.
	r := run(0, "switch --to the active colour", l.URL(), "switch", svcName, "--to", "blue")
	if !strings.Contains(r.Stdout, "blue is already active") {
		t.Fatalf("no-op not said:\n%s", r)
	}

	// 1: a usage error.
	wantErr(run(1, "unknown flag", l.URL(), "switch", svcName, "--colour", "green"), "unknown flag: --colour")

	// 2: refused by the server: an unknown service (404).
	wantErr(run(2, "unknown service", l.URL(), "service", "get", "nope."+strings.TrimSuffix(testZone, ".")), "not_found")

	// 2 as well: a wrong token (401), given through the environment.
	const token = "exit-codes-e2e-token"
	tn := StartNode(t, NodeOptions{ID: "t1", Bootstrap: true, Env: []string{"BGDNS_API_TOKEN=" + token}})
	r = RunCLIEnv(t, []string{"BGDNS_TOKEN=wrong-" + token}, tn.URL(), "service", "list")
	if r.Code != 2 || !strings.Contains(r.Stderr, "unauthorized") {
		t.Fatalf("wrong token: want exit 2\n%s", r)
	}
	if strings.Contains(r.Stderr, token) {
		t.Fatalf("stderr shows the token:\n%s", r)
	}
	if r := RunCLIEnv(t, []string{"BGDNS_TOKEN=" + token}, tn.URL(), "service", "list"); r.Code != 0 {
		t.Fatalf("right token: %s", r)
	}
	tn.Stop()

	// 4: preconditions (409): a stale --expect-revision, a frozen service.
	s := GetService(t, l.URL(), svcName)
	wantErr(run(4, "wrong --expect-revision", l.URL(), "switch", svcName, "--expect-revision", strconv.FormatUint(s.Revision-1, 10)),
		"conflict", "revision")
	l.CLI("freeze", svcName, "--reason", "exit code test")
	wantErr(run(4, "frozen service", l.URL(), "switch", svcName), "conflict", "frozen")
	l.CLI("unfreeze", svcName)
	if got := GetService(t, l.URL(), svcName); got.Active != "blue" {
		t.Fatalf("a refused switch changed the service: %+v", got)
	}

	// 3: the switch commits, but a SIGSTOPped follower cannot confirm it
	// within --wait-timeout.
	f := c.Followers()[0]
	f.Pause()
	t.Cleanup(f.Resume)
	r = run(3, "switch --wait with a paused follower", l.URL(), "switch", svcName, "--wait", "--wait-timeout", "2s", "--request-id", "exit3-switch")
	wantErr(r, "not every member applied it in time", f.ID, "request id: exit3-switch")
	if !strings.Contains(r.Stdout, "ACTIVE    green") {
		t.Fatalf("the incomplete wait does not show the committed switch:\n%s", r)
	}
	f.Resume()

	// 5: nothing listens on any server of the list, for all of --retry-for;
	// the write's request id is printed for a safe retry.
	dead := "http://" + freeTCPAddr(t, "127.0.0.1") + ",http://" + freeTCPAddr(t, "127.0.0.1")
	r = run(5, "no server reachable", dead, "--retry-for", "1s", "rollback", svcName, "--request-id", "exit5-rollback")
	wantErr(r, "unavailable", "connection refused", "--request-id exit5-rollback")
}
