// Package client is the Go client of the bgdns REST API, the one the bgdns
// command line uses.
//
// A Client is built from a Config: one or more API addresses of cluster
// members (any member accepts any call), an optional bearer token, an
// optional PEM CA file for https:// servers, and timeouts. Every call goes
// to the server that answered last; on a connection error, a timeout, or
// an answer that says the cluster cannot take the call right now (502,
// 503, or a 504 that is not a wait report), the client moves on to the
// next server, sleeping between attempts with capped exponential backoff
// and jitter, until Config.RetryFor has passed since the first attempt.
//
// Every write carries a request id (X-Request-Id, and request_id in the
// body of the typed methods): given by the caller or generated, and the
// same on every retry, so the server applies a retried write once and
// answers the repeat with the first result.
//
// The typed methods (GetService, Deploy, Switch, Rollback, Complete,
// History, Cluster, Ready, Version, ...) decode the answer into the api
// package's types and also return the answer's JSON as it came, for
// callers that print it unchanged. Do sends any request.
//
// Errors are *APIError (the server answered with an error), *UnavailableError
// (no server answered in time) or *WaitError (a write committed, but not
// every member applied it before the wait ran out). ExitCode maps any of
// them to the exit codes of the bgdns command line.
package client
