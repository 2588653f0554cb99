package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/bgdns/bgdns/api/openapi"
)

// conformance validates every request and response that passes through it
// against the OpenAPI document: the operation exists, its parameters and
// body match the request, and the status, headers and body of the answer
// are ones the document describes.
type conformance struct {
	t      *testing.T
	router routers.Router
	mu     sync.Mutex
	seen   map[string]bool // operations exercised, "METHOD /template"
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	// The legacy router matches paths without a servers list.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &conformance{t: t, router: r, seen: map[string]bool{}}
}

func (c *conformance) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := c.router.FindRoute(r)
		if err != nil {
			c.t.Errorf("%s %s: no operation of the document: %v", r.Method, r.URL.Path, err)
			next.ServeHTTP(w, r)
			return
		}
		c.mu.Lock()
		c.seen[r.Method+" "+route.Path] = true
		c.mu.Unlock()
		in := &openapi3filter.RequestValidationInput{
			Request: r.Clone(r.Context()), PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		in.Request.Body = io.NopCloser(bytes.NewReader(body))
		reqErr := openapi3filter.ValidateRequest(context.Background(), in)

		rec := httptest.NewRecorder()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(rec, r)
		// A request the document says is wrong must be refused.
		if reqErr != nil && rec.Code < 400 {
			c.t.Errorf("%s %s %s: the document refuses the request (%v) but the API answered %d",
				r.Method, r.URL.RequestURI(), body, reqErr, rec.Code)
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		out.SetBodyBytes(rec.Body.Bytes())
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			c.t.Errorf("%s %s: the answer %d %s does not match the document: %v",
				r.Method, r.URL.RequestURI(), rec.Code, strings.TrimSpace(rec.Body.String()), err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

// TestOpenAPIConformance runs the API through a zone's and a service's
// whole life, tokens, membership and the usual errors, and checks every
// request and answer against the document.
func TestOpenAPIConformance(t *testing.T) {
	c := newConformance(t)
	e := newEnvWrap(t, Options{}, c.wrap)
	const svc = "/v1/services/api.bg.example.com"

	e.must(200, "GET", "/healthz", "")
	e.must(200, "GET", "/readyz", "")
	e.must(200, "GET", OpenAPIPath, "")
	e.must(200, "PUT", "/v1/zones/bg.example.com", zoneBody)
	e.must(200, "PUT", "/v1/zones/other.example.com", `{"ns":["ns1.bg.example.com"]}`)
	e.must(200, "GET", "/v1/zones?limit=1", "")
	e.must(200, "GET", "/v1/zones/bg.example.com", "")
	e.must(200, "PUT", svc, `{"ttl":5,"blue":{"version":"1.0","addresses":["10.0.0.11"]},"health_check":{"type":"tcp","port":80},"min_healthy":0,"reason":"new"}`)
	e.must(200, "GET", "/v1/services?zone=bg.example.com", "")
	e.must(200, "PATCH", svc, `{"ttl":10,"min_healthy":null,"reason":"shorter"}`, "Content-Type", "application/merge-patch+json")
	e.must(200, "GET", "/v1/version", "")
	e.must(200, "GET", svc+"?stale", "")
	e.must(200, "POST", svc+"/deploy", `{"version":"2.0","addresses":["10.0.0.21","2001:db8::21"],"request_id":"r-deploy"}`)
	e.must(200, "POST", svc+"/switch?wait=all&wait_timeout=2s", `{"to":"green","reason":"2.0 passed","force":true}`)
	e.must(409, "POST", svc+"/switch", `{"to":"green","expect_revision":1}`)
	e.must(200, "POST", svc+"/rollback", "")
	e.must(200, "POST", svc+"/freeze", `{"reason":"incident"}`)
	e.must(200, "POST", svc+"/unfreeze", "")
	e.must(200, "POST", "/v1/zones/bg.example.com/freeze", "")
	e.must(200, "POST", "/v1/zones/bg.example.com/unfreeze", "")
	e.do("POST", svc+"/complete", `{"force":true,"reason":"done"}`)
	e.must(200, "GET", svc+"/history?limit=10", "")
	e.must(200, "GET", "/v1/cluster", "")
	e.must(200, "GET", "/v1/cluster/self", "")
	e.must(200, "GET", "/v1/cluster/checkpoint?index=1", "")
	e.do("GET", "/v1/cluster/readindex", "")
	e.must(200, "POST", "/v1/cluster/join", `{"id":"n4","raft_addr":"127.0.0.1:7057","http_addr":"http://127.0.0.1:8057"}`)
	e.must(200, "DELETE", "/v1/cluster/members/n4", "")
	var tc TokenChange
	e.must(200, "POST", "/v1/acl/tokens", `{"name":"ci","role":"deploy","scope":["api.*.example.com"]}`).decode(t, &tc)
	e.must(200, "GET", "/v1/acl/tokens", "")
	e.must(200, "GET", "/v1/acl/tokens/"+tc.Token.ID, "")
	e.must(200, "DELETE", "/v1/acl/tokens/"+tc.Token.ID, "")
	e.must(200, "GET", "/v1/audit?limit=5", "")
	e.must(200, "DELETE", svc, "")
	e.must(200, "DELETE", "/v1/zones/other.example.com", "")

	// Errors the document describes.
	e.must(404, "GET", svc, "")
	e.must(400, "GET", "/v1/services?limit=0", "")
	e.must(400, "POST", "/v1/services/api.bg.example.com/deploy", `{"version":"3","addresses":["10.0.0.31"],"bogus":1}`)
	e.must(422, "PUT", "/v1/services/x.nowhere.example", svcBody)
	e.must(415, "PUT", "/v1/zones/bg.example.com", "soa=1", "Content-Type", "application/x-www-form-urlencoded")

	// A token-protected node: 401 is described too.
	ce := newEnvWrap(t, Options{Token: "s3cret"}, c.wrap)
	ce.must(401, "GET", "/v1/zones", "")
	// ACLs: the bootstrap without a token, then 403 for a read token's write.
	ae := newEnvWrap(t, Options{ACL: true}, c.wrap)
	var boot TokenChange
	ae.must(200, "POST", "/v1/acl/bootstrap", "").decode(t, &boot)
	ae.must(409, "POST", "/v1/acl/bootstrap", "")
	ae.hdr = []string{"Authorization", "Bearer " + boot.Secret}
	var reader TokenChange
	ae.must(200, "POST", "/v1/acl/tokens", `{"name":"ro","role":"read"}`).decode(t, &reader)
	ae.hdr = []string{"Authorization", "Bearer " + reader.Secret}
	ae.must(403, "PUT", "/v1/zones/bg.example.com", "")

	// Operations added since this run was written are only listed: the
	// router check is what every new route must pass; a call here is
	// welcome, not required.
	d, _ := openapi.Document()
	var unexercised []string
	for p, item := range d["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			op := strings.ToUpper(m) + " " + p
			if slices.Contains(openapi.Operations, m) && !c.seen[op] {
				unexercised = append(unexercised, op)
			}
		}
	}
	if len(unexercised) > 0 {
		slices.Sort(unexercised)
		t.Logf("operations this run does not call: %s", strings.Join(unexercised, ", "))
	}
	if len(c.seen) < 30 {
		t.Errorf("the run exercised only %d operations", len(c.seen))
	}
}
