// Package apitest provides an in-memory api.Backend for tests: it applies
// commands to a real control.State with an incrementing index, so tests of
// the API and of its clients exercise the real domain rules. Switches let
// a test play a follower, a cluster without a leader, a node that is not
// ready, or voters that lag behind.
package apitest
