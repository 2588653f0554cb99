package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/api/apitest"
)

// cliEnv is an API server over a fake backend, for running the client.
type cliEnv struct {
	t   *testing.T
	b   *apitest.Backend
	srv *httptest.Server
}

func newCLIEnv(t *testing.T, opts api.Options) *cliEnv {
	t.Helper()
	// The client reads these at construction; start every test clean.
	t.Setenv("BGDNS_SERVER", "")
	t.Setenv("BGDNS_TOKEN", "")
	t.Setenv("BGDNS_ACTOR", "cli-test")
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b := apitest.New()
	srv := httptest.NewServer(api.NewHandler(b, opts))
	t.Cleanup(srv.Close)
	return &cliEnv{t: t, b: b, srv: srv}
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the client commands as main does, against server (when not
// empty), and maps the error to an exit code and stderr the same way.
func runCLI(t *testing.T, server string, args ...string) cliResult {
	t.Helper()
	if server != "" {
		args = append([]string{"--server", server}, args...)
	}
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	root.SetArgs(args)
	res := cliResult{code: report(&errb, root.Execute())}
	res.stdout, res.stderr = out.String(), errb.String()
	return res
}

// cli runs the client against the env's server and wants exit code 0.
func (e *cliEnv) cli(args ...string) string {
	e.t.Helper()
	r := runCLI(e.t, e.srv.URL, args...)
	if r.code != 0 {
		e.t.Fatalf("bgdns %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fail runs the client and wants exit code code and stderr containing msg.
func (e *cliEnv) fail(code int, msg string, args ...string) cliResult {
	e.t.Helper()
	r := runCLI(e.t, e.srv.URL, args...)
	if r.code != code || !strings.Contains(r.stderr, msg) {
		e.t.Fatalf("bgdns %s: exit %d (want %d), stderr %q (want %q)\nstdout:\n%s", strings.Join(args, " "), r.code, code, r.stderr, msg, r.stdout)
	}
	return r
}

// get fetches a path from the API directly.
func (e *cliEnv) get(path string) []byte {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *cliEnv) seed() {
	e.t.Helper()
	e.cli("zone", "put", "bg.example.com", "--ns", "ns1.bg.example.com", "--glue", "ns1.bg.example.com=127.0.0.1,::1")
	e.cli("service", "put", "api.bg.example.com", "--ttl", "5", "--blue", "10.0.0.11,10.0.0.12", "--blue-version", "1.0")
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
	}
}
