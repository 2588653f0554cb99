package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
)

// mountMetrics serves Options.Metrics at GET /metrics, authenticated as
// /v1 is and for the read role (a cluster member's certificate is
// enough). The metrics name every zone and service, so a token scoped to
// some of them is refused.
func (h *handler) mountMetrics(r chi.Router) {
	if h.opts.Metrics == nil {
		return
	}
	r.With(h.auth, h.need(control.RoleRead, ""), h.unscoped).Get("/metrics", h.opts.Metrics.ServeHTTP)
}

func (h *handler) unscoped(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := identityOf(r); len(id.scope) > 0 {
			h.writeError(w, r, forbidden("%s %s names every service: it needs a token without scope; %q is scoped", r.Method, r.URL.Path, id.name))
			return
		}
		next.ServeHTTP(w, r)
	})
}
