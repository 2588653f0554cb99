package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/control"
)

var _ Backend = (*apitest.Backend)(nil)

// env is one API server over a fake backend.
type env struct {
	t   *testing.T
	b   *apitest.Backend
	srv *httptest.Server
	// hdr is sent with every request (before the request's own headers).
	hdr []string
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	return newEnvWrap(t, opts, nil)
}

// newEnvWrap is newEnv with the handler wrapped by wrap (when not nil).
func newEnvWrap(t *testing.T, opts Options, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b := apitest.New()
	h := NewHandler(b, opts)
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, b: b, srv: srv}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (e *env) do(method, path, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	hdr = append(append([]string(nil), e.hdr...), hdr...)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// must runs a request that has to answer status.
func (e *env) must(status int, method, path, body string, hdr ...string) resp {
	e.t.Helper()
	r := e.do(method, path, body, hdr...)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
	return r
}

// mutation runs a write that must succeed and decodes its response.
func (e *env) mutation(method, path, body string, hdr ...string) Mutation {
	e.t.Helper()
	var m Mutation
	e.must(http.StatusOK, method, path, body, hdr...).decode(e.t, &m)
	return m
}

// errorOf checks the error JSON shape and returns it.
func errorOf(t *testing.T, r resp) ErrorDetail {
	t.Helper()
	var raw map[string]map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("error body is not JSON: %s", r.body)
	}
	e, ok := raw["error"]
	if !ok || len(raw) != 1 {
		t.Fatalf("error body has no single \"error\" object: %s", r.body)
	}
	if c, _ := e["code"].(string); c == "" {
		t.Fatalf("error without code: %s", r.body)
	}
	if m, _ := e["message"].(string); m == "" {
		t.Fatalf("error without message: %s", r.body)
	}
	var b ErrorBody
	r.decode(t, &b)
	return b.Error
}

const (
	zoneBody = `{"ns":["ns1.bg.example.com"],"glue":{"ns1.bg.example.com":["127.0.0.1"]}}`
	svcBody  = `{"ttl":5,"blue":{"version":"1.0","addresses":["10.0.0.12","10.0.0.11"]}}`
)

// seed creates the zone bg.example.com and the service api in it.
func (e *env) seed() Mutation {
	e.t.Helper()
	e.mutation("PUT", "/v1/zones/bg.example.com", zoneBody)
	return e.mutation("PUT", "/v1/services/api.bg.example.com", svcBody)
}

func controlCode(s string) control.Code { return control.Code(s) }
