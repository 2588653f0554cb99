// Package api is the REST control plane of bgdns: chi routes
// under /v1, JSON in and out, bearer-token auth, bounded request bodies,
// leader forwarding and the one mapping from domain errors to HTTP status
// codes.
//
// Authorization (auth.go): with Options.ACL every /v1 request is
// authenticated against the replicated tokens (or Options.Token, the
// management token, or a cluster member's TLS client certificate, which
// only reads), and each route names the role it needs and, for a named
// zone or service, checks the token's scope. The secret of a new token is
// made here, on the node handling the request, and only its hash is
// proposed (acl.go).
//
// Handlers decode and check the shape of a request, stamp the Command
// (actor, request id; the leader's Propose stamps the time) and hand it to a Backend, which commits it
// through Raft. A follower's Backend answers CodeNotLeader; the handler
// then proxies the original request to the leader once (never a 301).
//
// The JSON shapes are the API's own DTOs (dto.go), built from control's
// types, so the wire format does not follow internal changes by accident.
// The CLI client decodes the same types.
//
// The events feed (events.go, events_stream.go) lists the history and
// audit records of the node's applied state after a Raft index, as a
// blocking query or Server-Sent Events; a Backend that implements
// ChangeNotifier wakes its readers on each applied change. The status
// page (package ui) is mounted at /ui/, outside the authenticated /v1.
//
// api imports control (and peer's plain types, and ui's embedded page);
// it knows nothing of raft or dns.
package api
