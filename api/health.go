package api

import (
	"errors"
	"net/http"

	"github.com/bgdns/bgdns/peer"
)

// healthResource serves /healthz and /readyz (no auth).
type healthResource struct{ h *handler }

func (rs healthResource) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

// readyz is 200 "ready" when the node serves current answers, 200 "stale"
// when it serves its last applied state without a leader to confirm it (a
// load balancer keeps sending it DNS), and 503 otherwise: "diverged" when
// its log differs from the cluster's, else "unavailable".
func (rs healthResource) readyz(w http.ResponseWriter, _ *http.Request) {
	err := rs.h.b.Ready()
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, Health{Status: "ready"})
	case rs.h.b.Serving() && rs.h.b.Stale():
		writeJSON(w, http.StatusOK, Health{Status: "stale", Reason: err.Error()})
	case errors.Is(err, peer.ErrDiverged):
		writeJSON(w, http.StatusServiceUnavailable, Health{Status: "diverged", Reason: err.Error()})
	default:
		writeJSON(w, http.StatusServiceUnavailable, Health{Status: "unavailable", Reason: err.Error()})
	}
}
