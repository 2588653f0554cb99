package api

import (
	"net/http"

	"github.com/bgdns/bgdns/buildinfo"
)

// version is GET /v1/version: this node's release, commit, Go version and
// the Raft protocol and encoding versions it writes.
func (h *handler) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, buildinfo.Get())
}
