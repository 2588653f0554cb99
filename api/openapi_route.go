package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/api/openapi"
	"github.com/bgdns/bgdns/control"
)

// OpenAPIPath is where the API's OpenAPI description is served. It needs
// no token: the document is static (the same on every node and build) and
// names no host, address, version or secret.
const OpenAPIPath = "/v1/openapi.json"

// mountOpenAPI registers GET OpenAPIPath on r, beside (and outside the
// authentication of) the /v1 routes.
func (h *handler) mountOpenAPI(r chi.Router) {
	r.Get(OpenAPIPath, func(w http.ResponseWriter, r *http.Request) {
		b, err := openapi.JSON()
		if err != nil {
			h.writeError(w, r, &control.Error{Code: control.CodeInternal, Message: "the OpenAPI description does not build: " + err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	})
}
