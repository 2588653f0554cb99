// Command bench-switch measures how fast a colour flip travels through a
// bgdns cluster of real processes on loopback, with fsync on: 3 voters,
// and the -edges edge nodes (serve --role edge) beside them:
//
//   - for N sequential switches, the time from the REST call to the commit
//     (the leader's answer) and to every node answering the new colour over
//     DNS; each switch is followed by a rollback, measured the same way and
//     reported apart (a switch is only allowed once the previous one is
//     rolled back or completed);
//   - for a quarter as many switches and rollbacks with ?wait=all, the
//     time from the REST call to its 200, which comes once every member,
//     edges included, confirmed applying it;
//   - the time from kill -9 of the leader to the first write the cluster
//     accepts again.
//
// Run it with `make bench-switch` (it builds bin/bgdns first) or
// `go run ./cmd/bench-switch -bin bin/bgdns [-edges 10]`.
package main
