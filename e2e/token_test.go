package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// With --api-token, every member sends the token to the others: joining,
// wait=all (which reads each member's applied index) and cluster status
// all work, and a client without the token is refused.
func TestClusterWithAPIToken(t *testing.T) {
	const token = "s3cret-token"
	c := StartCluster(t, 3, ClusterOptions{MaxStale: 2 * time.Second, Args: []string{"--api-token", token}})
	n3 := c.Nodes[2]
	withToken := []string{"BGDNS_TOKEN=" + token}

	r := RunCLI(t, n3.URL(), "service", "list")
	if r.Code == 0 || !strings.Contains(r.Stderr, "unauthorized") {
		t.Fatalf("a client without the token was not refused:\n%s", r)
	}

	mustCLI := func(args ...string) string {
		t.Helper()
		r := RunCLIEnv(t, withToken, n3.URL(), args...)
		if r.Code != 0 {
			t.Fatalf("%s", r)
		}
		return r.Stdout
	}
	mustCLI("service", "put", svcName, "--ttl", "5", "--blue", strings.Join(blueV4, ","), "--blue-version", "1.0")
	mustCLI("deploy", svcName, "--version", "2.0", "--addr", greenV4[0])
	out := mustCLI("-o", "json", "switch", svcName, "--reason", "token test", "--wait", "--wait-timeout", "10s")
	var res waitJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if res.Wait == nil || !res.Wait.Complete || len(res.Wait.Nodes) != 3 {
		t.Fatalf("wait=all with a token did not complete on all three: %s", out)
	}
	for _, n := range c.Nodes {
		if err := checkColour(n, greenV4); err != nil {
			t.Errorf("%s after a completed wait: %v", n.ID, err)
		}
	}

	var cl struct {
		Members []struct {
			ID        string `json:"id"`
			Reachable bool   `json:"reachable"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(mustCLI("-o", "json", "cluster", "members")), &cl); err != nil {
		t.Fatal(err)
	}
	if len(cl.Members) != 3 {
		t.Fatalf("members: %+v", cl.Members)
	}
	for _, m := range cl.Members {
		if !m.Reachable {
			t.Errorf("member %s unreachable with the token set: %+v", m.ID, cl.Members)
		}
	}
}
