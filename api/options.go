package api

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultWaitTimeout    = 10 * time.Second
	DefaultMaxWaitTimeout = 50 * time.Second
	DefaultForwardTimeout = 5 * time.Second
)

// Options configure the handler returned by NewHandler.
type Options struct {
	// Token, when set, is a single management (admin) token. Without ACL
	// it is required on every /v1 request as "Authorization: Bearer
	// <token>"; with ACL it is accepted beside the replicated tokens.
	// /healthz and /readyz stay open.
	Token string
	// ACL turns on ACL tokens: every /v1 request needs a token of the
	// replicated state (or Token), with a role and scope that allow it.
	ACL bool
	// MaxBodyBytes bounds request bodies (default 1 MiB); larger is 413.
	MaxBodyBytes int64
	// MaxSnapshotBytes bounds a PUT /v1/snapshot body (default
	// DefaultMaxSnapshotBytes); larger is 413.
	MaxSnapshotBytes int64
	// Logger receives request and error logs (default slog.Default()).
	Logger *slog.Logger
	// WaitTimeout is how long wait=all waits when the request names no
	// wait_timeout (default 10s).
	WaitTimeout time.Duration
	// MaxWaitTimeout caps a requested wait_timeout (default 50s, below the
	// server's write timeout).
	MaxWaitTimeout time.Duration
	// MaxStale is the cluster's staleness bound, stamped on every command
	// (it enters the retire watermark of switch and rollback); zero leaves
	// control's default.
	MaxStale time.Duration
	// ForwardClient sends requests on to the leader. Default: a client
	// with a timeout of MaxWaitTimeout plus 5s that does not follow
	// redirects.
	ForwardClient *http.Client
	// ForwardTimeout bounds a request forwarded to the leader (default 5s;
	// a wait=all gets its wait on top); past it the client gets 503
	// no_leader and can retry with the same request id.
	ForwardTimeout time.Duration
	// Metrics, when set, is served at GET /metrics to identities with the
	// read role (metrics.go).
	Metrics http.Handler
	// MaxWatchers caps the event readers (blocking queries and streams)
	// served at once (default 256); past it a reader gets 503.
	MaxWatchers int
	// EventHeartbeat is how often an idle event stream sends a comment
	// (default 15s).
	EventHeartbeat time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxSnapshotBytes <= 0 {
		o.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.MaxWaitTimeout <= 0 {
		o.MaxWaitTimeout = DefaultMaxWaitTimeout
	}
	if o.WaitTimeout > o.MaxWaitTimeout {
		o.WaitTimeout = o.MaxWaitTimeout
	}
	if o.ForwardTimeout <= 0 {
		o.ForwardTimeout = DefaultForwardTimeout
	}
	if o.MaxWatchers <= 0 {
		o.MaxWatchers = DefaultMaxWatchers
	}
	if o.EventHeartbeat <= 0 {
		o.EventHeartbeat = DefaultEventHeartbeat
	}
	if o.ForwardClient == nil {
		o.ForwardClient = &http.Client{
			Timeout: o.MaxWaitTimeout + 5*time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	return o
}
