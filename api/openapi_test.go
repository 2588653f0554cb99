package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/api/openapi"
)

// routedOperations walks the real router and returns "METHOD /path"
// for every route, with chi's patterns written as OpenAPI path templates.
func routedOperations(t *testing.T) []string {
	t.Helper()
	// every optional route mounted, as a node with metrics mounts them
	h := NewHandler(apitest.New(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: http.NotFoundHandler()})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("NewHandler returns %T, not a chi router", h)
	}
	var out []string
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+templateOf(route))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

var chiParamRegexp = regexp.MustCompile(`\{([^}:]+):[^}]*\}`)

// templateOf turns a chi route pattern into an OpenAPI path template: no
// trailing slash (a subrouter's "/" route), no regexp in parameters, and a
// trailing catch-all (a mounted file server, /ui/*) as the parameter
// {path}.
func templateOf(route string) string {
	route = chiParamRegexp.ReplaceAllString(route, "{$1}")
	route = strings.ReplaceAll(route, "/*/", "/")
	if s, ok := strings.CutSuffix(route, "/*"); ok {
		return s + "/{path}"
	}
	if len(route) > 1 {
		route = strings.TrimSuffix(route, "/")
	}
	return route
}

// documentedOperations returns "METHOD /path" for every operation of the
// merged document.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	d, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	paths, _ := d["paths"].(map[string]any)
	var out []string
	for p, item := range paths {
		m, _ := item.(map[string]any)
		for k := range m {
			if slices.Contains(openapi.Operations, k) {
				out = append(out, strings.ToUpper(k)+" "+p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestOpenAPICoversRouter: every route of the router is described, and
// every described operation is routed.
func TestOpenAPICoversRouter(t *testing.T) {
	routed := routedOperations(t)
	documented := documentedOperations(t)
	if len(routed) < 30 {
		t.Fatalf("the router walk found only %d routes: %v", len(routed), routed)
	}
	for _, op := range routed {
		if !slices.Contains(documented, op) {
			t.Errorf("route %s is not described in the OpenAPI document: add it under paths: in a file of api/openapi/paths/", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routed, op) {
			method, p, _ := strings.Cut(op, " ")
			t.Errorf("operation %s is described in api/openapi/%s but the router has no such route", op, openapi.Source(method, p))
		}
	}
}

// TestOpenAPIRouteComparisonCatchesDrift checks the comparison itself: a
// route that only the router has, and one that only the document has,
// are both reported.
func TestOpenAPIRouteComparisonCatchesDrift(t *testing.T) {
	if got := templateOf("/v1/services/{fqdn}/"); got != "/v1/services/{fqdn}" {
		t.Errorf("templateOf(subrouter root) = %q", got)
	}
	if got := templateOf("/v1/x/{id:[0-9]+}/y"); got != "/v1/x/{id}/y" {
		t.Errorf("templateOf(regexp param) = %q", got)
	}
	if got := templateOf("/ui/*"); got != "/ui/{path}" {
		t.Errorf("templateOf(catch-all) = %q", got)
	}
	routed := routedOperations(t)
	documented := documentedOperations(t)
	if slices.Contains(routed, "PATCH /v1/zones/{zone}") || slices.Contains(documented, "PATCH /v1/zones/{zone}") {
		t.Fatal("PATCH /v1/zones/{zone} is expected neither routed nor described")
	}
	for _, op := range []string{"GET /healthz", "GET /v1/openapi.json", "GET /v1/zones", "POST /v1/services/{fqdn}/switch", "DELETE /v1/cluster/members/{id}"} {
		if !slices.Contains(routed, op) {
			t.Errorf("the router walk misses %s: %v", op, routed)
		}
	}
}

// TestOpenAPIDocumentValid loads the served JSON with kin-openapi and
// validates it as OpenAPI 3.1 (refs resolve, path parameters declared,
// schemas well-formed, examples valid against their schemas).
func TestOpenAPIDocumentValid(t *testing.T) {
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("document is OpenAPI %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	for _, name := range []string{"bearerAuth", "tokenHeader", "memberCertificate"} {
		if doc.Components.SecuritySchemes[name] == nil {
			t.Errorf("security scheme %s is missing", name)
		}
	}
	if s := doc.Components.SecuritySchemes["bearerAuth"].Value; s.Type != "http" || s.Scheme != "bearer" {
		t.Errorf("bearerAuth is %s/%s, want http/bearer", s.Type, s.Scheme)
	}
	if len(doc.Security) == 0 {
		t.Error("the document names no default security requirement")
	}
	// Every operation says what it needs; TestOpenAPISecurityMatchesAPI
	// checks that against the API.
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			if len(op.Responses.Map()) == 0 || op.Responses.Value("200") == nil {
				t.Errorf("%s %s: no 200 response described", m, p)
			}
		}
	}
}

// TestOpenAPISecurityMatchesAPI calls every operation of the document
// without a token on a node with ACLs on: an operation the document opens
// to anonymous callers must not answer 401, and every other must.
func TestOpenAPISecurityMatchesAPI(t *testing.T) {
	b, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Options{ACL: true, Metrics: http.NotFoundHandler()})
	param := regexp.MustCompile(`\{[^}]+\}`)
	n := 0
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			sec := doc.Security
			if op.Security != nil {
				sec = *op.Security
			}
			anonymous := len(sec) == 0 || slices.ContainsFunc(sec, func(r openapi3.SecurityRequirement) bool { return len(r) == 0 })
			path := param.ReplaceAllStringFunc(p, func(string) string { return "x.bg.example.com" })
			body := ""
			if m != http.MethodGet && m != http.MethodHead {
				body = "{}"
			}
			r := e.do(m, path, body)
			if got := r.status != http.StatusUnauthorized; got != anonymous {
				t.Errorf("%s %s without a token: %d; the document says anonymous callers are allowed: %v", m, p, r.status, anonymous)
			}
			n++
		}
	}
	if n < 30 {
		t.Fatalf("only %d operations called", n)
	}
}

// TestOpenAPIValidatorRejectsBrokenDocument makes sure the validation is
// not vacuous: a dangling $ref and an undeclared path parameter fail.
func TestOpenAPIValidatorRejectsBrokenDocument(t *testing.T) {
	for name, doc := range map[string]string{
		"dangling ref":              `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Nope"}}}}}}}}}`,
		"undeclared path parameter": `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{"/x/{id}":{"get":{"responses":{"200":{"description":"ok"}}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			d, err := openapi3.NewLoader().LoadFromData([]byte(doc))
			if err == nil {
				err = d.Validate(context.Background())
			}
			if err == nil {
				t.Fatal("a broken document passed validation")
			}
		})
	}
}

// TestOpenAPIServedWithoutToken: the document is served, as JSON, to a
// client without a token even when the node requires one everywhere else.
func TestOpenAPIServedWithoutToken(t *testing.T) {
	for _, opts := range []Options{{Token: "s3cret-management"}, {ACL: true}} {
		t.Run(fmt.Sprintf("token=%t,acl=%t", opts.Token != "", opts.ACL), func(t *testing.T) {
			e := newEnv(t, opts)
			res, err := http.Get(e.srv.URL + OpenAPIPath)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("GET %s = %d %s: %s", OpenAPIPath, res.StatusCode, res.Header.Get("Content-Type"), body)
			}
			want, _ := openapi.JSON()
			if string(body) != string(want) {
				t.Fatal("the served document is not the embedded one")
			}
			if opts.Token != "" && strings.Contains(string(body), opts.Token) {
				t.Fatal("the served document holds the management token")
			}
			// Every other /v1 route still needs the token.
			res, err = http.Get(e.srv.URL + "/v1/zones")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("GET /v1/zones without a token = %d, want 401", res.StatusCode)
			}
		})
	}
}
