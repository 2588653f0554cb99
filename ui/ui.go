package ui

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every file of the page: nothing but
// this origin's own script, style and API.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// files maps the paths under the prefix to the embedded files and types.
var files = map[string]struct{ name, ctype string }{
	"":        {"static/index.html", "text/html; charset=utf-8"},
	"app.js":  {"static/app.js", "text/javascript; charset=utf-8"},
	"app.css": {"static/app.css", "text/css; charset=utf-8"},
}

// Handler serves the page under prefix (such as "/ui/", and at "/ui"
// too): GET and HEAD of the page and its two files; anything else is 404
// or 405. The page names its files by absolute path under prefix.
func Handler(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p+"/" == prefix {
			p = prefix
		}
		f, ok := files[strings.TrimPrefix(p, prefix)]
		if !ok || !strings.HasPrefix(p, prefix) {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		b, err := static.ReadFile(f.name)
		if err != nil {
			http.Error(w, "missing file", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	})
}
