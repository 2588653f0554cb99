// Package control owns the bgdns domain: zones, services with their blue and
// green pools, the blue-green lifecycle (deploy, switch, rollback, complete),
// the audit history and request de-duplication, ACL tokens (only the hash
// of each secret) and the audit of zone, membership and token changes,
// and the quotas that bound the state.
//
// The State is immutable: Apply returns a new State that shares every
// untouched part with the old one, so readers (the DNS server, the API) load
// a pointer and never lock. Apply is deterministic: it reads no clock, no
// randomness and no network; the time, actor and request id of a change are
// stamped on the Command before it reaches the log. Precondition failures are
// returned as values and change nothing.
//
// control imports nothing of raft, dns or net/http.
package control
