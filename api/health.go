package api

import "net/http"

// healthResource serves /healthz and /readyz (no auth).
type healthResource struct{ h *handler }

func (rs healthResource) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

func (rs healthResource) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := rs.h.b.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, Health{Status: "unavailable", Reason: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready"})
}
