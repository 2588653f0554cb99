package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/bgdns/bgdns/control"
)

// Headers of every read of zones and services.
const (
	// HeaderStale is "true" when the node answering could not confirm
	// that its state is current (it lost its leader): the answer is the
	// last state it applied.
	HeaderStale = "X-Bgdns-Stale"
	// HeaderApplied is the Raft index of the state the answer was read
	// from.
	HeaderApplied = "X-Bgdns-Applied-Index"
)

// consistentTimeout bounds the confirmation of a ?consistent read.
const consistentTimeout = 3 * time.Second

// readGate applies the node's consistency to reads of zones and services:
//   - a node that is not serving (catching up after a restart, diverged)
//     answers 503 rather than an older state than it may have given before,
//     unless the read says ?stale (whatever this node holds will do: status
//     pages, debugging);
//   - ?consistent confirms with the leader first that this node applied
//     everything committed (503 when it cannot);
//   - otherwise the answer says whether it is stale and the index it was
//     read at.
func (h *handler) readGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		_, anyState := r.URL.Query()["stale"]
		if !h.b.Serving() && !anyState {
			msg := "this node does not serve its state now"
			if err := h.b.Ready(); err != nil {
				msg += ": " + err.Error()
			}
			h.writeError(w, r, &control.Error{Code: control.CodeNoLeader, Message: msg + "; ask another member"})
			return
		}
		if _, ok := r.URL.Query()["consistent"]; ok {
			ctx, cancel := context.WithTimeout(r.Context(), consistentTimeout)
			err := h.b.Confirm(ctx)
			cancel()
			if err != nil {
				h.writeError(w, r, err)
				return
			}
		} else if h.b.Stale() || !h.b.Serving() {
			w.Header().Set(HeaderStale, "true")
		}
		w.Header().Set(HeaderApplied, strconv.FormatUint(h.b.Applied(), 10))
		next.ServeHTTP(w, r)
	})
}
