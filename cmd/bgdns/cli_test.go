package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
)

func TestCLILifecycle(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	out := e.cli("service", "get", "api.bg.example.com.")
	wantLines(t, out, "NAME      api.bg.example.com", "ACTIVE    blue", "STATE     stable", "REVISION  2",
		"blue    active  1.0      10.0.0.11,10.0.0.12", "green   empty")

	out = e.cli("deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.21", "--addr", "2001:db8::21,10.0.0.22")
	wantLines(t, out, "deploy api.bg.example.com: committed at index 3", "STATE     deployed",
		"green   idle    2.0      10.0.0.21,10.0.0.22,2001:db8::21")

	out = e.cli("switch", "api.bg.example.com", "--reason", "2.0 passed tests", "--wait", "--request-id", "ci-42")
	wantLines(t, out, "switch api.bg.example.com: committed at index 4", "ACTIVE    green (previous blue)",
		"every member applied index 4", "n3    4")
	// The same request id again: the first result, said so.
	out = e.cli("switch", "api.bg.example.com", "--request-id", "ci-42")
	wantLines(t, out, "committed at index 4 (repeated request_id")

	wantLines(t, e.cli("rollback", "api.bg.example.com", "--reason", "errors"), "ACTIVE    blue", "STATE     rolled_back")
	wantLines(t, e.cli("complete", "api.bg.example.com"), "STATE     stable", "green   retired  2.0")

	out = e.cli("history", "api.bg.example.com")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("history:\n%s", out)
	}
	for i, want := range []string{"complete", "rollback", "switch", "deploy", "service.put"} {
		if !strings.Contains(lines[i+1], " "+want+" ") || !strings.Contains(lines[i+1], "cli-test") {
			t.Fatalf("history line %d %q, want %s by cli-test", i+1, lines[i+1], want)
		}
	}
	wantLines(t, lines[3], "2.0 passed tests", "ci-42")
	if out := e.cli("history", "api.bg.example.com", "--limit", "2"); strings.Count(out, "\n") != 3 {
		t.Fatalf("history --limit 2:\n%s", out)
	}

	out = e.cli("service", "list")
	if !regexp.MustCompile(`(?m)^api\.bg\.example\.com\s+blue\s+1\.0\s+stable\s+7\s+5\s+1\.0\s+2\.0$`).MatchString(out) {
		t.Fatalf("service list:\n%s", out)
	}
	wantLines(t, e.cli("status"), "LEADER        n1", "READY         yes", "COMMIT INDEX  7", "n2  ", "api.bg.example.com")
	e.b.SetReady(errors.New("not caught up"))
	wantLines(t, e.cli("status"), "READY         no: not caught up")
	e.b.SetReady(nil)
	wantLines(t, e.cli("zone", "list"), "bg.example.com  7 ")
	wantLines(t, e.cli("zone", "get", "bg.example.com"), "GLUE      ns1.bg.example.com 127.0.0.1,::1")

	wantLines(t, e.cli("service", "delete", "api.bg.example.com"), "delete api.bg.example.com: committed")
	e.fail(client.ExitRefused, "error: not_found: service api.bg.example.com not found", "service", "get", "api.bg.example.com")
	wantLines(t, e.cli("zone", "delete", "bg.example.com."), "zone delete bg.example.com: committed")
}

// TestCLIJSON: -o json prints exactly the API's JSON.
func TestCLIJSON(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	for _, c := range []struct {
		args []string
		path string
	}{
		{[]string{"service", "get", "api.bg.example.com"}, "/v1/services/api.bg.example.com"},
		{[]string{"service", "list"}, "/v1/services"},
		{[]string{"zone", "list"}, "/v1/zones"},
		{[]string{"zone", "get", "bg.example.com"}, "/v1/zones/bg.example.com"},
		{[]string{"history", "api.bg.example.com"}, "/v1/services/api.bg.example.com/history"},
		{[]string{"cluster", "members"}, "/v1/cluster"},
	} {
		out := e.cli(append(c.args, "-o", "json")...)
		if want := e.get(c.path); !bytes.Equal(bytes.TrimSpace([]byte(out)), bytes.TrimSpace(want)) {
			t.Fatalf("%v -o json:\n%s\nAPI:\n%s", c.args, out, want)
		}
	}
	var m api.Mutation
	out := e.cli("deploy", "api.bg.example.com", "--version", "2", "--addr", "10.0.0.2", "-o", "json", "--wait")
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Index != 3 || m.Service.State != "deployed" || m.Wait == nil || !m.Wait.Complete {
		t.Fatalf("deploy -o json: %v\n%s", err, out)
	}
	var st struct {
		Cluster  api.Cluster     `json:"cluster"`
		Ready    api.Health      `json:"ready"`
		Services api.ServiceList `json:"services"`
	}
	out = e.cli("status", "-o", "json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Cluster.Leader.ID != "n1" || len(st.Services.Services) != 1 || st.Ready.Status != "ready" {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	// Errors stay on stderr in JSON mode too, stdout empty.
	r := e.fail(client.ExitRefused, "error: not_found:", "service", "get", "nope.bg.example.com", "-o", "json")
	if r.stdout != "" {
		t.Fatalf("stdout on error: %q", r.stdout)
	}
}

func TestCLIErrors(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	e.fail(client.ExitRefused, `error: invalid: unknown colour "purple"`, "switch", "api.bg.example.com", "--to", "purple")
	r := e.fail(client.ExitPrecondition, "error: conflict: green has no addresses; deploy to it first (now: active blue, state stable, revision 2)",
		"switch", "api.bg.example.com")
	if r.stdout != "" {
		t.Fatalf("stdout on error: %q", r.stdout)
	}
	e.fail(client.ExitPrecondition, "error: conflict: revision is 2, not the expected 1", "rollback", "api.bg.example.com", "--expect-revision", "1")
	e.fail(client.ExitRefused, "error: invalid: invalid address", "deploy", "api.bg.example.com", "--version", "2", "--addr", "10.0.0.300")
	e.fail(client.ExitRefused, "error: not_found:", "history", "nope.bg.example.com")
	e.fail(client.ExitRefused, "error: invalid:", "service", "get", "bad!name")
	// Usage errors: exit 1.
	e.fail(client.ExitLocal, "expects the service NAME", "switch")
	e.fail(client.ExitLocal, "expects the service NAME", "switch", "a", "b")
	e.fail(client.ExitLocal, "unknown flag", "switch", "api.bg.example.com", "--colour", "green")
	e.fail(client.ExitLocal, "--output must be table or json", "service", "list", "-o", "yaml")
	e.fail(client.ExitLocal, "deploy needs --version", "deploy", "api.bg.example.com", "--addr", "10.0.0.1")
	e.fail(client.ExitLocal, "needs a pool", "service", "put", "web.bg.example.com")
	e.fail(client.ExitLocal, "unknown command", "service", "frobnicate")
	e.fail(client.ExitLocal, "--glue", "zone", "put", "x.test", "--glue", "nohost")
	e.fail(client.ExitLocal, "invalid argument", "history", "api.bg.example.com", "--limit", "many")
	// Nothing listening: exit 5, after --retry-for.
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	if r := runCLI(t, url, "--retry-for", "300ms", "status"); r.code != client.ExitUnavailable || !strings.Contains(r.stderr, "error: unavailable:") {
		t.Fatalf("dead server: %+v", r)
	}
	// A server that is not bgdns: the HTTP status is the error code, exit 2.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "teapot", http.StatusTeapot)
	}))
	defer other.Close()
	if r := runCLI(t, other.URL, "service", "list"); r.code != client.ExitRefused || !strings.Contains(r.stderr, "error: http_418: teapot") {
		t.Fatalf("foreign server: %+v", r)
	}
}

func TestCLIWaitIncomplete(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	e.cli("deploy", "api.bg.example.com", "--version", "2", "--addr", "10.0.0.2")
	e.b.SetLagging("n3")
	r := e.fail(client.ExitWaitTimeout, "wait: committed at index 4, but not every member applied it in time (lagging: n3)",
		"switch", "api.bg.example.com", "--wait", "--wait-timeout", "20ms")
	wantLines(t, r.stdout, "ACTIVE    green", "NOT every member applied index 4 in time; lagging: n3")
}

func TestCLITokenAndEnv(t *testing.T) {
	e := newCLIEnv(t, api.Options{Token: "s3cret"})
	e.fail(client.ExitRefused, "error: unauthorized:", "service", "list")
	e.cli("--token", "s3cret", "zone", "put", "bg.example.com", "--ns", "ns.example.net")
	// BGDNS_SERVER and BGDNS_TOKEN are read from the environment.
	t.Setenv("BGDNS_SERVER", strings.TrimPrefix(e.srv.URL, "http://"))
	t.Setenv("BGDNS_TOKEN", "s3cret")
	r := runCLI(t, "", "zone", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "bg.example.com") {
		t.Fatalf("env: %+v", r)
	}
}

// TestCLIFollowsRedirect: a 307 to another address is followed for a
// POST, with its body and the token.
func TestCLIFollowsRedirect(t *testing.T) {
	e := newCLIEnv(t, api.Options{Token: "s3cret"})
	e.cli("--token", "s3cret", "zone", "put", "bg.example.com", "--ns", "ns.example.net")
	e.cli("--token", "s3cret", "service", "put", "api.bg.example.com", "--blue", "10.0.0.1", "--blue-version", "1")
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// 127.0.0.1 and localhost differ as hosts, so Go would drop the
		// Authorization header unless the client sets it again.
		target := strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1) + r.URL.RequestURI()
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	defer follower.Close()
	r := runCLI(t, follower.URL, "--token", "s3cret", "deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.2")
	if r.code != 0 || !strings.Contains(r.stdout, "STATE     deployed") {
		t.Fatalf("through a redirect: %+v", r)
	}
	if s := e.b.State().Service("api.bg.example.com."); s.State != "deployed" {
		t.Fatalf("state %s", s.State)
	}
}

func TestCLIServicePutFile(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	// A GET saved to a file, put back with a flag overriding the TTL.
	path := filepath.Join(t.TempDir(), "service.json")
	if err := os.WriteFile(path, e.get("/v1/services/api.bg.example.com"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := e.cli("service", "put", "api.bg.example.com", "-f", path, "--ttl", "30", "--green", "10.0.0.21", "--green-version", "2.0", "--no-txt")
	wantLines(t, out, "TTL       30", "TXT       off", "green   idle    2.0      10.0.0.21", "blue    active  1.0")
	if err := os.WriteFile(path, []byte(`{"ttl":5,"colour":"blue"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.fail(client.ExitLocal, "unknown field", "service", "put", "api.bg.example.com", "-f", path)
	e.fail(client.ExitLocal, "no such file", "service", "put", "api.bg.example.com", "-f", path+".missing")
	// Green active from flags alone.
	out = e.cli("service", "put", "web.bg.example.com", "--active", "green", "--green", "10.0.0.9", "--green-version", "9")
	wantLines(t, out, "ACTIVE    green", "blue    empty")
}

func TestCLICluster(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	out := e.cli("cluster", "members")
	wantLines(t, out, "ID  LEADER  ROLE   APPLIED", "n1  *       voter", "n3  -       voter")
	wantLines(t, e.cli("cluster", "join", "--id", "n4", "--raft-addr", "127.0.0.1:7060", "--http-addr", "http://127.0.0.1:8060", "--dns-addr", "127.0.0.1:5360"), "joined n4")
	if j := e.b.Joined(); len(j) != 1 || j[0].HTTPAddr != "http://127.0.0.1:8060" || j[0].DNSAddr != "127.0.0.1:5360" {
		t.Fatalf("joined: %+v", j)
	}
	wantLines(t, e.cli("cluster", "members"), "n4  -       voter")
	wantLines(t, e.cli("cluster", "join", "--id", "e1", "--raft-addr", "127.0.0.1:7061", "--http-addr", "http://127.0.0.1:8061", "--role", "edge"), "joined e1")
	if j := e.b.Joined(); len(j) != 2 || j[1].Role != "edge" {
		t.Fatalf("joined with --role edge: %+v", j)
	}
	wantLines(t, e.cli("cluster", "members"), "e1  -       edge")
	wantLines(t, e.cli("cluster", "remove", "n4"), "removed n4")
	e.fail(client.ExitRefused, "error: not_found: node n4 is not a member", "cluster", "remove", "n4")
	e.fail(client.ExitLocal, "needs --id and --raft-addr", "cluster", "join", "--id", "n5")
	e.fail(client.ExitRefused, "error: invalid: raft_addr", "cluster", "join", "--id", "n5", "--raft-addr", "nowhere")
}
