package api

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/bgdns/bgdns/control"
)

// recoverer turns a panic in a handler into a logged 500.
func (h *handler) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.log.Error("api handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				h.writeError(w, r, &control.Error{Code: control.CodeInternal, Message: fmt.Sprint("internal error: ", v)})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs writes at info and reads at debug.
func (h *handler) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := h.log.Debug
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			level = h.log.Info
		}
		level("api request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start), "forwarded", r.Header.Get(HeaderForwarded) != "")
	})
}
