// Package prober runs the health checks of bgdns services and turns their
// results into Raft entries.
//
// Only the leader probes. It checks every address of both colours of every
// service with a health check at the check's interval (a bounded number of
// probes in flight, each with its own timeout), applies rise/fall
// hysteresis locally, and proposes an OpHealth command only when an
// address's status changes, never per probe result. The committed health is
// what every node serves from (control.Service.AnswerAddrs), so all nodes
// answer alike.
//
// The leader also watches validation windows: when the new colour of a
// validating service has fallen below min_healthy (as the committed state
// says, control.Service.ValidationFailed) it proposes the rollback itself
// (actor "bgdns"), and when the window has passed it proposes
// OpValidated. Both commands carry if_state=validating and the service's
// revision, so however many probers propose them, across leader changes,
// they are applied once.
//
// A node that becomes leader starts from the committed health (its
// counters start at zero), so it proposes no transition the old leader
// already committed. Probing never blocks Raft Apply or the DNS path: it
// runs in its own goroutines and only reads the immutable State.
//
// prober imports control only (plus the standard library).
package prober
