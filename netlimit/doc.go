// Package netlimit bounds the connections a listener keeps open, in all
// and per source address, so that one client (or many idle ones) cannot
// exhaust a node's file descriptors or lock the other clients out. It is
// used by the REST API listener and the Raft listener.
package netlimit
