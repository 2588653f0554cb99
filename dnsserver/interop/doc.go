// Package interop proves bgdns's DNS server against real peers installed
// from Debian packages (scripts/install-test-deps.sh): an NSD and a Knot
// secondary transferring the zone with TSIG and following NOTIFY, an
// unbound resolver with a stub zone, and dig/kdig checks of each protocol
// rule. The tests carry the build tag "interop" and run with
// `make test-interop`; they fail, not skip, when a peer is missing.
//
// The peers run as child processes with their configuration in a
// temporary directory, on loopback ports, without touching system
// configuration.
package interop
