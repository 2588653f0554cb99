package api

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/ui"
)

// handler holds what every resource needs.
type handler struct {
	b    Backend
	opts Options
	log  *slog.Logger
}

// NewHandler returns the REST API (routes under /v1, /healthz, /readyz)
// and the status page (/ui/), served from b.
func NewHandler(b Backend, opts Options) http.Handler {
	opts = opts.withDefaults()
	h := &handler{b: b, opts: opts, log: opts.Logger}
	events := newEventsResource(h)

	r := chi.NewRouter()
	r.Use(h.recoverer, h.logRequests)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, control.NotFound("no such endpoint %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		h.writeError(w, r, &control.Error{Code: CodeMethodNotAllowed,
			Message: "method " + r.Method + " is not allowed on " + r.URL.Path})
	})
	health := healthResource{h}
	r.Get("/healthz", health.healthz)
	r.Get("/readyz", health.readyz)
	h.mountMetrics(r) // metrics.go
	h.mountOpenAPI(r)
	// The status page itself is public; its data calls carry the token.
	page := ui.Handler("/ui/").ServeHTTP
	r.Get("/ui", page)
	r.Get("/ui/*", page)
	r.Route("/v1", func(r chi.Router) {
		r.Use(h.auth)
		r.With(h.readGate).Mount("/zones", zonesResource{h}.Routes())
		r.With(h.readGate).Mount("/services", servicesResource{h}.Routes())
		r.Mount(strings.TrimPrefix(clusterPrefix, "/v1"), clusterResource{h}.Routes())
		r.Mount("/acl", aclResource{h}.Routes())
		r.With(h.need(control.RoleRead, "")).Get("/audit", h.audit)
		r.With(h.need(control.RoleRead, "")).Mount("/events", events.Routes())
		r.With(h.need(control.RoleRead, "")).Get("/version", h.version)
		r.With(h.need(control.RoleAdmin, "")).Route("/snapshot", h.snapshotRoutes)
	})
	return &apiHandler{Router: r, events: events}
}

// apiHandler is what NewHandler returns: the router (still a chi.Routes,
// for what walks the routes), and what ends the event readers when the
// server shuts down.
type apiHandler struct {
	chi.Router
	events *eventsResource
}

// CloseEventReaders ends every blocking query (answering what it has) and
// every event stream, now and from then on, so that a graceful shutdown
// need not wait for them. NewServer registers it with the server's
// Shutdown.
func (a *apiHandler) CloseEventReaders() { a.events.close() }

// nameParam reads and canonicalises a zone or service name from the path.
func nameParam(r *http.Request, key string) (string, error) {
	raw := chi.URLParam(r, key)
	if s, err := url.PathUnescape(raw); err == nil {
		raw = s
	}
	return control.CanonicalName(raw)
}

// readJSON reads the body (bounded) and decodes it strictly into v.
func (h *handler) readJSON(r *http.Request, v any, required bool) ([]byte, error) {
	b, err := readBody(r, h.opts.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return b, decodeStrict(b, v, required)
}

// readWrite reads what every write starts with: the zone or service name
// from the path parameter param, then the JSON body into in. When it fails
// it has answered the error, and ok is false.
func (h *handler) readWrite(w http.ResponseWriter, r *http.Request, param string, in any, required bool) (name string, body []byte, ok bool) {
	name, err := nameParam(r, param)
	if err == nil {
		body, err = h.readJSON(r, in, required)
	}
	if err != nil {
		h.writeError(w, r, err)
		return "", nil, false
	}
	return name, body, true
}

// matchBodyName checks that a name given in a PUT body (optional, since
// the path names the object) is the one in the path.
func matchBodyName(path, inBody string) error {
	if inBody == "" {
		return nil
	}
	n, err := control.CanonicalName(inBody)
	if err != nil {
		return err
	}
	if n != path {
		return badRequest("name %q in the body does not match %q in the path", inBody, bare(path))
	}
	return nil
}
