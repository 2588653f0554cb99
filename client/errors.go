package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bgdns/bgdns/api"
)

// Exit codes of the bgdns command line, one per kind of failure, so that a
// script can tell them apart.
const (
	// ExitOK: the command did what it was asked (or there was nothing to do).
	ExitOK = 0
	// ExitLocal: a usage error (bad flag or argument) or another local
	// error (an unreadable file, a bad CA file).
	ExitLocal = 1
	// ExitRefused: the server refused the request: a 4xx other than 409
	// (bad request, unauthorized, forbidden, not found, invalid), or a
	// server error other than 502, 503 and 504.
	ExitRefused = 2
	// ExitWaitTimeout: the change is committed, but not every member
	// confirmed applying it before --wait-timeout (the API's 504 with
	// "complete": false).
	ExitWaitTimeout = 3
	// ExitPrecondition: a precondition failed (409): the revision, the
	// service's state, the health gate, a freeze, the minimum switch
	// interval or the retire watermark; or --wait-healthy / --wait-safe
	// gave up before its gate passed. Nothing was changed.
	ExitPrecondition = 4
	// ExitUnavailable: no server could be reached, or the cluster had no
	// leader, for the whole --retry-for.
	ExitUnavailable = 5
)

// ExitCode maps an error of this package (possibly wrapped) to an exit
// code; nil is ExitOK and any other error ExitLocal.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var (
		we *WaitError
		ae *APIError
		ue *UnavailableError
	)
	switch {
	case errors.As(err, &we):
		return ExitWaitTimeout
	case errors.As(err, &ue):
		return ExitUnavailable
	case errors.As(err, &ae):
		switch {
		case ae.Status == http.StatusConflict:
			return ExitPrecondition
		case retryableStatus(ae.Status):
			return ExitUnavailable
		default:
			return ExitRefused
		}
	}
	return ExitLocal
}

// RequestID returns the request id of the write err is about, or "".
func RequestID(err error) string {
	var (
		we *WaitError
		ae *APIError
		ue *UnavailableError
	)
	switch {
	case errors.As(err, &we):
		return we.RequestID
	case errors.As(err, &ae):
		return ae.RequestID
	case errors.As(err, &ue):
		return ue.RequestID
	}
	return ""
}

// APIError is an error answered by a server.
type APIError struct {
	Status  int    // HTTP status
	Code    string // the API's error code (not_found, conflict, ...), or http_NNN
	Message string
	// Service is the service's current state, sent with a 409.
	Service *api.Service
	// Server is the base URL that answered.
	Server string
	// RequestID is the id the write was sent with ("" for reads).
	RequestID string
}

func (e *APIError) Error() string {
	msg := e.Code + ": " + e.Message
	if s := e.Service; s != nil {
		msg += fmt.Sprintf(" (now: active %s, state %s, revision %d)", s.Active, s.State, s.Revision)
	}
	return msg
}

// UnavailableError says that no server answered the call before the retry
// budget ran out.
type UnavailableError struct {
	Method, Path string
	Servers      []string
	Attempts     int
	RetryFor     time.Duration
	RequestID    string
	// Last is the last attempt's error.
	Last error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("unavailable: %s %s: no server answered in %d attempts over %s (%s): %v",
		e.Method, e.Path, e.Attempts, e.RetryFor, strings.Join(e.Servers, ", "), e.Last)
}

func (e *UnavailableError) Unwrap() error { return e.Last }

// WaitError says that a write is committed, but not every member applied
// it before the wait ran out. Mutation holds the answer.
type WaitError struct {
	Mutation  *api.Mutation
	RequestID string
}

func (e *WaitError) Error() string {
	w := e.Mutation.Wait
	return fmt.Sprintf("wait: committed at index %d, but not every member applied it in time (lagging: %s)",
		w.Index, strings.Join(w.Lagging, ", "))
}

// retryableStatus: the cluster cannot take the call right now (no leader,
// not ready, a proxy in front of it that timed out).
func retryableStatus(status int) bool {
	return status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout
}

// isIncompleteWait reports whether raw is a mutation whose wait=all ran
// out before every member applied it (the API's 504).
func isIncompleteWait(raw []byte) bool {
	var m struct {
		Wait *struct {
			Complete bool `json:"complete"`
		} `json:"wait"`
	}
	return json.Unmarshal(raw, &m) == nil && m.Wait != nil && !m.Wait.Complete
}

func decodeAPIError(status int, raw []byte) *APIError {
	var b api.ErrorBody
	if err := json.Unmarshal(raw, &b); err == nil && b.Error.Code != "" {
		return &APIError{Status: status, Code: b.Error.Code, Message: b.Error.Message, Service: b.Error.Service}
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Code: fmt.Sprintf("http_%d", status), Message: msg}
}

// isContextErr: the caller's context ended; never retried.
func isContextErr(ctx context.Context) bool { return ctx.Err() != nil }
