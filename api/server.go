package api

import (
	"net/http"
	"time"
)

// Server timeouts. WriteTimeout leaves room for the longest wait=all.
const (
	ServerReadHeaderTimeout = 5 * time.Second
	ServerReadTimeout       = 15 * time.Second
	ServerWriteTimeout      = 60 * time.Second
	ServerIdleTimeout       = 120 * time.Second
	ServerMaxHeaderBytes    = 64 << 10
)

// EventReaderCloser is implemented by the handler NewHandler returns (and
// by a wrapper of it that passes the call on): it ends the event readers.
type EventReaderCloser interface {
	CloseEventReaders()
}

// NewServer returns an http.Server for h on addr with every timeout and the
// header size bounded. The caller runs Serve/ListenAndServe and Shutdown;
// when h is an EventReaderCloser, Shutdown first ends the blocking
// queries and event streams, which would otherwise hold it up to their
// wait.
func NewServer(addr string, h http.Handler) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ServerReadHeaderTimeout,
		ReadTimeout:       ServerReadTimeout,
		WriteTimeout:      ServerWriteTimeout,
		IdleTimeout:       ServerIdleTimeout,
		MaxHeaderBytes:    ServerMaxHeaderBytes,
	}
	if c, ok := h.(EventReaderCloser); ok {
		srv.RegisterOnShutdown(c.CloseEventReaders)
	}
	return srv
}
