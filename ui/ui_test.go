package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestServesThePageWithItsPolicy(t *testing.T) {
	srv := httptest.NewServer(Handler("/ui/"))
	defer srv.Close()
	for path, ctype := range map[string]string{"/ui/": "text/html", "/ui/app.js": "text/javascript", "/ui/app.css": "text/css"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) || len(b) == 0 {
			t.Fatalf("%s: %d %q %d bytes", path, res.StatusCode, res.Header.Get("Content-Type"), len(b))
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows unsafe sources", path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	for _, path := range []string{"/ui/index.html", "/ui/static/app.js", "/ui/../ui.go", "/other"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	res, err := http.Post(srv.URL+"/ui/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", res.StatusCode)
	}
}

// No file of the page loads anything from elsewhere, holds inline script
// or style (the policy would block them), or puts a token in a URL.
func TestPageIsSelfContained(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)
	for name := range map[string]bool{"static/index.html": true, "static/app.js": true, "static/app.css": true} {
		b, err := static.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if external.MatchString(s) || strings.Contains(s, "@import") || strings.Contains(s, "url(") {
			t.Errorf("%s refers to an external asset", name)
		}
		if name == "static/index.html" && (regexp.MustCompile(`<script>|<style|style=|\son[a-z]+=`).MatchString(s)) {
			t.Errorf("%s has inline script or style", name)
		}
		if name == "static/app.js" && (strings.Contains(s, "EventSource") || strings.Contains(s, "?token=") || strings.Contains(s, "localStorage")) {
			t.Errorf("%s must keep the token out of URLs and persistent storage", name)
		}
	}
}
