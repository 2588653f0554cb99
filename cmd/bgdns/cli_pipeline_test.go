package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/buildinfo"
	"github.com/bgdns/bgdns/client"
	"github.com/bgdns/bgdns/control"
)

func switchRecords(t *testing.T, e *cliEnv) int {
	t.Helper()
	var h api.History
	if err := json.Unmarshal([]byte(e.cli("history", "api.bg.example.com", "-o", "json")), &h); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range h.Records {
		if r.Action == "switch" {
			n++
		}
	}
	return n
}

func TestCLISwitchToActiveIsANoop(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	e.cli("deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.21")
	out := e.cli("switch", "api.bg.example.com", "--to", "blue")
	wantLines(t, out, "switch api.bg.example.com: blue is already active (revision 3): nothing to do")
	var noop struct {
		Noop    bool        `json:"noop"`
		Service api.Service `json:"service"`
	}
	if err := json.Unmarshal([]byte(e.cli("switch", "api.bg.example.com", "--to", "Blue", "-o", "json")), &noop); err != nil ||
		!noop.Noop || noop.Service.Active != "blue" {
		t.Fatalf("-o json no-op: %+v %v", noop, err)
	}
	if n := switchRecords(t, e); n != 0 {
		t.Fatalf("%d switch records after no-ops", n)
	}
	wantLines(t, e.cli("switch", "api.bg.example.com", "--to", "green"), "switch api.bg.example.com: committed at index 4", "ACTIVE    green")

	// A race: the service read said blue, but by the time the switch
	// arrives green is active; the 409 saying so is the same no-op.
	stale := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/v1/services/api.bg.example.com" {
			var s map[string]any
			_ = json.Unmarshal(e.get(r.URL.Path), &s)
			s["active"] = "blue"
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(s)
			return
		}
		u, _ := url.Parse(e.srv.URL)
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer stale.Close()
	r := runCLI(t, stale.URL, "switch", "api.bg.example.com", "--to", "green")
	if r.code != 0 || !strings.Contains(r.stdout, "green is already active") {
		t.Fatalf("switch racing another one: %+v", r)
	}
	if n := switchRecords(t, e); n != 1 {
		t.Fatalf("%d switch records, want the one real switch", n)
	}
}

func healthUp(t *testing.T, e *cliEnv, addrs ...string) {
	t.Helper()
	var ch []control.HealthChange
	for _, a := range addrs {
		ch = append(ch, control.HealthChange{Addr: netip.MustParseAddr(a), Status: control.HealthUp})
	}
	if _, err := e.b.Propose(context.Background(), control.Command{Op: control.OpHealth, Name: "api.bg.example.com.",
		Time: time.Now().UTC(), Actor: "bgdns", Health: &control.HealthSpec{Changes: ch}}); err != nil {
		t.Fatal(err)
	}
}

func TestCLISwitchWaitHealthy(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.cli("zone", "put", "bg.example.com", "--ns", "ns1.bg.example.com", "--glue", "ns1.bg.example.com=127.0.0.1")
	e.cli("service", "put", "api.bg.example.com", "--blue", "10.0.0.11", "--blue-version", "1.0",
		"--green", "10.0.0.21,10.0.0.22", "--green-version", "2.0",
		"--health-type", "tcp", "--health-port", "8081", "--min-healthy", "2")

	// The gate does not pass in time: exit 4, nothing changed.
	r := runCLI(t, e.srv.URL, "switch", "api.bg.example.com", "--wait-healthy", "--wait-timeout", "300ms")
	if r.code != client.ExitPrecondition || !strings.Contains(r.stderr, "green has 0 of 2 addresses healthy and min_healthy is 2") ||
		!strings.Contains(r.stderr, "nothing was changed") {
		t.Fatalf("gate not passing: %+v", r)
	}
	if n := switchRecords(t, e); n != 0 {
		t.Fatalf("%d switches after a gate that did not pass", n)
	}

	// One address up, then the other, while the switch waits.
	done := make(chan cliResult, 1)
	go func() {
		done <- runCLI(t, e.srv.URL, "switch", "api.bg.example.com", "--wait-healthy", "--wait-timeout", "30s", "--wait")
	}()
	// Give the client time to see the gate closed (its stderr says it did,
	// checked below), then open it in two steps.
	time.Sleep(300 * time.Millisecond)
	healthUp(t, e, "10.0.0.21")
	time.Sleep(300 * time.Millisecond)
	if n := switchRecords(t, e); n != 0 {
		t.Fatalf("switched with 1 of 2 healthy")
	}
	healthUp(t, e, "10.0.0.22")
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("switch --wait-healthy did not return")
	}
	if r.code != 0 {
		t.Fatalf("switch --wait-healthy: %+v", r)
	}
	wantLines(t, r.stdout, "ACTIVE    green", "every member applied index")
	wantLines(t, r.stderr, "waiting for green's health gate: green has 0 of 2 addresses healthy")
}

func TestCLICompleteWaitSafe(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.cli("zone", "put", "bg.example.com", "--ns", "ns1.bg.example.com", "--glue", "ns1.bg.example.com=127.0.0.1", "--soa-minimum", "1")
	// A validation window guards the service: complete waits for the
	// retire watermark (confirmation + TTL 2s).
	e.cli("service", "put", "api.bg.example.com", "--ttl", "2", "--blue", "10.0.0.11", "--blue-version", "1.0",
		"--validation-window", "1s")
	e.cli("deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.21")
	e.cli("switch", "api.bg.example.com")
	e.fail(client.ExitPrecondition, "safe_to_retire_at", "complete", "api.bg.example.com")
	r := runCLI(t, e.srv.URL, "complete", "api.bg.example.com", "--wait-safe", "--wait-timeout", "30s")
	if r.code != 0 {
		t.Fatalf("complete --wait-safe: %+v", r)
	}
	wantLines(t, r.stdout, "complete api.bg.example.com: committed", "STATE     stable", "blue    retired")
	wantLines(t, r.stderr, "waiting for the retire watermark: resolvers may hold the old answer until")

	// A member that never confirms: --wait-safe gives up with exit 4,
	// naming it.
	e.cli("deploy", "api.bg.example.com", "--version", "3.0", "--addr", "10.0.0.31")
	e.b.SetLagging("n3")
	e.cli("switch", "api.bg.example.com")
	r = runCLI(t, e.srv.URL, "complete", "api.bg.example.com", "--wait-safe", "--wait-timeout", "500ms")
	if r.code != client.ExitPrecondition || !strings.Contains(r.stderr, "waiting for n3 to confirm the switch") ||
		!strings.Contains(r.stderr, "nothing was changed") {
		t.Fatalf("complete --wait-safe with n3 lagging: %+v", r)
	}
}

func TestCLIServiceSetPatchesOnlyTheGivenFields(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	e.cli("deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.21")
	var bodies []map[string]any
	var mu sync.Mutex
	spy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			mu.Lock()
			bodies = append(bodies, m)
			mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(b)))
			if ct := r.Header.Get("Content-Type"); ct != "application/merge-patch+json" {
				t.Errorf("PATCH Content-Type %q", ct)
			}
		}
		u, _ := url.Parse(e.srv.URL)
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	defer spy.Close()
	r := runCLI(t, spy.URL, "service", "set", "api.bg.example.com", "--ttl", "30", "--reason", "longer ttl", "--request-id", "set-1")
	if r.code != 0 {
		t.Fatalf("service set: %+v", r)
	}
	wantLines(t, r.stdout, "set api.bg.example.com: committed", "TTL       30", "blue    active  1.0      10.0.0.11,10.0.0.12", "green   idle    2.0      10.0.0.21")
	if len(bodies) != 1 {
		t.Fatalf("%d PATCH bodies", len(bodies))
	}
	got := bodies[0]
	if len(got) != 3 || got["ttl"] != float64(30) || got["reason"] != "longer ttl" || got["request_id"] != "set-1" {
		t.Fatalf("PATCH body %v: want only ttl, reason and request_id", got)
	}
	// Nested fields: only those given.
	r = runCLI(t, spy.URL, "service", "set", "api.bg.example.com", "--health-type", "tcp", "--health-port", "8081", "--min-healthy", "1")
	if r.code != 0 {
		t.Fatalf("service set health: %+v", r)
	}
	wantLines(t, r.stdout, "HEALTH CHECK", "tcp :8081", "TTL       30")
	if hc, _ := bodies[1]["health_check"].(map[string]any); len(hc) != 2 || hc["port"] != float64(8081) {
		t.Fatalf("PATCH body %v", bodies[1])
	}
	r = runCLI(t, spy.URL, "service", "set", "api.bg.example.com", "--health-type", "none", "--min-healthy", "0")
	if r.code != 0 || strings.Contains(r.stdout, "HEALTH CHECK") {
		t.Fatalf("remove the health check: %+v", r)
	}
	if v, ok := bodies[2]["health_check"]; !ok || v != nil {
		t.Fatalf("PATCH body %v: want health_check null", bodies[2])
	}
	// Mistakes.
	e.fail(client.ExitLocal, "at least one field", "service", "set", "api.bg.example.com")
	e.fail(client.ExitRefused, "not_found", "service", "set", "nope.bg.example.com", "--ttl", "5")
	e.fail(client.ExitPrecondition, "revision", "service", "set", "api.bg.example.com", "--ttl", "6", "--expect-revision", "1")
}

func TestCLIVersion(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	local := buildinfo.Get()
	var v struct {
		Client    buildinfo.Info  `json:"client"`
		Server    *buildinfo.Info `json:"server"`
		ServerURL string          `json:"server_url"`
	}
	if err := json.Unmarshal([]byte(e.cli("version", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Client != local || v.Server == nil || *v.Server != local || v.ServerURL != e.srv.URL {
		t.Fatalf("version -o json: %+v", v)
	}
	wantLines(t, e.cli("version"), "CLIENT", "SERVER "+e.srv.URL, "VERSION", local.Version, "RAFT PROTOCOL")
	// No server: the local version, exit 0, the server reported unknown.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	r := runCLI(t, deadURL, "version", "--retry-for", "200ms")
	if r.code != 0 || !strings.Contains(r.stdout, local.GoVersion) || !strings.Contains(r.stderr, "version unknown") {
		t.Fatalf("version without a server: %+v", r)
	}
}

func TestCLIHelpExitCodes(t *testing.T) {
	r := runCLI(t, "", "help", "exit-codes")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"  0  success", "  1  usage or local error", "  2  refused by the server",
		"  3  wait timed out", "  4  precondition failed", "  5  server unreachable or no leader", "--retry-for"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("help exit-codes lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(runCLI(t, "", "--help").stdout, "exit-codes") {
		t.Fatal("bgdns --help does not list the exit-codes topic")
	}
}

func TestCLIServerList(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seed()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	// The first server is down: the next one answers, the write is applied once.
	r := runCLI(t, deadURL+","+e.srv.URL, "deploy", "api.bg.example.com", "--version", "2.0", "--addr", "10.0.0.21")
	if r.code != 0 || !strings.Contains(r.stdout, "STATE     deployed") {
		t.Fatalf("--server with a dead first server: %+v", r)
	}
	t.Setenv("BGDNS_SERVER", deadURL+" , "+strings.TrimPrefix(e.srv.URL, "http://"))
	if r := runCLI(t, "", "service", "get", "api.bg.example.com"); r.code != 0 {
		t.Fatalf("BGDNS_SERVER list: %+v", r)
	}
	// No leader anywhere: exit 5 after --retry-for, with the request id.
	e.b.SetNoLeader(true)
	r = runCLI(t, e.srv.URL, "--retry-for", "500ms", "switch", "api.bg.example.com", "--request-id", "sw-7")
	if r.code != client.ExitUnavailable || !strings.Contains(r.stderr, "request id: sw-7") || !strings.Contains(r.stderr, "--request-id sw-7") {
		t.Fatalf("no leader: %+v", r)
	}
	e.b.SetNoLeader(false)
	e.fail(client.ExitLocal, "--server", "--server", "ftp://x", "status")
}
