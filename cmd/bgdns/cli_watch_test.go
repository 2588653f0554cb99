package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/client"
	"github.com/bgdns/bgdns/control"
)

func (e *cliEnv) propose(cmd control.Command) {
	e.t.Helper()
	res, err := e.b.Propose(context.Background(), cmd)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		e.t.Fatalf("%s: %v", cmd.Op, err)
	}
}

func (e *cliEnv) seedWatch() {
	e.propose(control.Command{Op: control.OpZonePut, Name: "bg.example.com.", Actor: "ops",
		Zone: &control.ZoneSpec{NS: []string{"ns1.example.net."}}})
	e.propose(control.Command{Op: control.OpServicePut, Name: "api.bg.example.com.", Actor: "ops",
		Service: &control.ServiceSpec{TTL: 5,
			Blue:  &control.Pool{Version: "1.0", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.11")}},
			Green: &control.Pool{Version: "2.0", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.21")}}}})
}

// watchServer serves e's backend and signals on blocking each blocking
// query (one naming an index) as it arrives.
func (e *cliEnv) watchServer(fail func(n int32) bool) (string, <-chan struct{}) {
	e.t.Helper()
	blocking := make(chan struct{}, 100)
	var n atomic.Int32
	h := api.NewHandler(e.b, api.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail != nil && fail(n.Add(1)) {
			http.Error(w, "upstream gone", http.StatusBadGateway)
			return
		}
		if r.URL.Query().Get("index") != "" {
			blocking <- struct{}{}
		}
		h.ServeHTTP(w, r)
	}))
	e.t.Cleanup(srv.Close)
	return srv.URL, blocking
}

// runWatch runs `bgdns watch` against server until it exits (--count),
// running then() once its first blocking query arrived.
func runWatch(t *testing.T, server string, blocking <-chan struct{}, then func(), args ...string) cliResult {
	t.Helper()
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, server, append([]string{"watch"}, args...)...) }()
	select {
	case <-blocking:
		then()
	case r := <-done:
		t.Fatalf("watch ended early: %+v", r)
	case <-time.After(30 * time.Second):
		t.Fatal("watch sent no blocking query")
	}
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("watch did not end after its --count")
	}
	return cliResult{}
}

func TestCLIWatchTableAndJSON(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seedWatch()
	sw := func() {
		e.propose(control.Command{Op: control.OpSwitch, Name: "api.bg.example.com.", Actor: "ci", Reason: "tests passed"})
	}
	srv, blocking := e.watchServer(nil)
	r := runWatch(t, srv, blocking, sw, "--last", "5", "--count", "3")
	if r.code != 0 {
		t.Fatalf("watch: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("watch output:\n%s", r.stdout)
	}
	for i, want := range [][]string{
		{" 1 ", "zone", "zone.put", "bg.example.com", "by ops"},
		{" 2 ", "service", "service.put", "api.bg.example.com", "version 1.0"},
		{" 3 ", "service", "switch", "api.bg.example.com", "blue -> green", "version 2.0", "by ci", `"tests passed"`},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("line %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}

	// -o json: one event a line, only the named service's, the last one
	// first and then the next
	r = runWatch(t, srv, blocking, func() {
		e.propose(control.Command{Op: control.OpZonePut, Name: "other.test.", Zone: &control.ZoneSpec{NS: []string{"ns1.example.net."}}})
		e.propose(control.Command{Op: control.OpRollback, Name: "api.bg.example.com.", Actor: "ci"})
	}, "-o", "json", "-n", "1", "--count", "2", "api.bg.example.com")
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev api.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, ev.Name+" "+ev.Action+" "+ev.Record.To)
	}
	if strings.Join(got, "|") != "api.bg.example.com switch green|api.bg.example.com rollback blue" {
		t.Fatalf("json watch: %v\n%s", got, r.stderr)
	}
}

// An error is retried and the feed goes on; a refused request ends it.
func TestCLIWatchRetries(t *testing.T) {
	e := newCLIEnv(t, api.Options{})
	e.seedWatch()
	// the first blocking query fails
	srv, blocking := e.watchServer(func(n int32) bool { return n == 2 })
	r := runWatch(t, srv, blocking, func() {
		e.propose(control.Command{Op: control.OpSwitch, Name: "api.bg.example.com.", Actor: "ci"})
	}, "-n", "0", "--count", "1", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"action":"switch"`) || !strings.Contains(r.stderr, "retrying") {
		t.Fatalf("watch through an error: %+v", r)
	}
	e2 := newCLIEnv(t, api.Options{Token: "s3cret"})
	r = runCLI(t, e2.srv.URL, "watch")
	if r.code != client.ExitRefused || !strings.Contains(r.stderr, "unauthorized") {
		t.Fatalf("refused watch: %+v", r)
	}
}
