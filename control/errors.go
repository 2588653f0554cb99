package control

import (
	"errors"
	"fmt"
)

// Code classifies an error for the API (status code) and the CLI (exit).
type Code string

const (
	CodeBadRequest Code = "bad_request" // malformed input (400)
	CodeNotFound   Code = "not_found"   // unknown zone or service (404)
	CodeConflict   Code = "conflict"    // precondition or lifecycle conflict (409)
	CodeInvalid    Code = "invalid"     // well-formed but semantically invalid (422)
	CodeNoLeader   Code = "no_leader"   // cluster cannot commit right now (503)
	CodeNotLeader  Code = "not_leader"  // this node is a follower; Error.Leader names the leader (forward or 503)
	CodeInternal   Code = "internal"    // a bug (500)
)

// Error is the one error type of the domain. Service, when set, is the
// current state of the service concerned (a 409 carries it back).
type Error struct {
	Code    Code     `json:"code"`
	Message string   `json:"message"`
	Service *Service `json:"-"`
	// Leader is the leader's API address (http://host:port), with CodeNotLeader.
	Leader string `json:"-"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

func errf(code Code, format string, a ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, a...)}
}

// Sentinel-style constructors, one per kind of failure.
func BadRequest(format string, a ...any) *Error { return errf(CodeBadRequest, format, a...) }
func NotFound(format string, a ...any) *Error   { return errf(CodeNotFound, format, a...) }
func Conflict(format string, a ...any) *Error   { return errf(CodeConflict, format, a...) }
func Invalid(format string, a ...any) *Error    { return errf(CodeInvalid, format, a...) }

// CodeOf returns the Code of err, CodeInternal for errors of other types.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
