package api

import (
	"net/http"
	"strings"
	"testing"
)

// The status page is served without a token even when every /v1 call
// needs one, at /ui too.
func TestStatusPageRoutes(t *testing.T) {
	e := newEnv(t, Options{Token: "mgmt-secret"})
	r := e.must(http.StatusOK, "GET", "/ui/", "")
	if !strings.Contains(string(r.body), `id="token-prompt"`) || !strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("page: %v %s", r.header, r.body)
	}
	e.must(http.StatusOK, "GET", "/ui/app.js", "")
	e.must(http.StatusNotFound, "GET", "/ui/secret.txt", "")
	e.must(http.StatusUnauthorized, "GET", "/v1/services", "")
	if r := e.must(http.StatusOK, "GET", "/ui", ""); !strings.Contains(string(r.body), `src="/ui/app.js"`) {
		t.Fatalf("/ui: %s", r.body)
	}
	e.must(http.StatusMethodNotAllowed, "POST", "/ui/", "")
}
