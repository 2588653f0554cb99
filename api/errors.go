package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/bgdns/bgdns/control"
)

// Error codes the API adds to control's.
const (
	CodeTooLarge         control.Code = "too_large"
	CodeUnauthorized     control.Code = "unauthorized"
	CodeMethodNotAllowed control.Code = "method_not_allowed"
)

// ErrorBody is every error response: {"error":{"code","message"}}. A 409
// from a precondition or lifecycle conflict carries the service's current
// state in Error.Service.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Service *Service `json:"service,omitempty"`
	Leader  string   `json:"leader,omitempty"`
}

// statusFor is the one mapping from error codes to HTTP status codes.
func statusFor(c control.Code) int {
	switch c {
	case control.CodeBadRequest:
		return http.StatusBadRequest
	case control.CodeNotFound:
		return http.StatusNotFound
	case control.CodeConflict:
		return http.StatusConflict
	case control.CodeInvalid:
		return http.StatusUnprocessableEntity
	case control.CodeNoLeader, control.CodeNotLeader, CodeBusy:
		return http.StatusServiceUnavailable
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeForbidden:
		return http.StatusForbidden
	case CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case control.CodeQuota:
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// asError turns any error into a *control.Error; errors of other types
// are bugs (internal).
func asError(err error) *control.Error {
	var e *control.Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &control.Error{Code: control.CodeNoLeader,
			Message: "the change was not confirmed in time (it may still commit; retry with the same request_id): " + err.Error()}
	}
	return &control.Error{Code: control.CodeInternal, Message: err.Error()}
}

// writeError writes err as the error JSON with its status code.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	code := e.Code
	if code == control.CodeNotLeader {
		// Reaching the client means forwarding was not possible.
		code = control.CodeNoLeader
	}
	status := statusFor(code)
	body := ErrorBody{Error: ErrorDetail{Code: string(code), Message: e.Message, Leader: e.Leader}}
	if e.Service != nil && status == http.StatusConflict {
		body.Error.Service = h.withWaiting(r.Context(), toService(e.Service))
		if rt := body.Error.Service.Retire; rt != nil && len(rt.WaitingFor) > 0 {
			body.Error.Message += " (waiting for " + strings.Join(rt.WaitingFor, ", ") + ")"
		}
	}
	switch {
	case code == control.CodeNoLeader:
		// expected while a cluster elects or a node joins; not a fault here
		h.log.Warn("api request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", e.Message)
	case status >= 500 && status != http.StatusInsufficientStorage:
		h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", e.Message)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bgdns"`)
	}
	writeJSON(w, status, body)
}

func badRequest(format string, a ...any) error { return control.BadRequest(format, a...) }
