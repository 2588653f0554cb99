// Package pki holds bgdns's certificates: it loads a node's PEM files into
// the tls.Config of each side of each connection (Raft listener and dialer,
// HTTPS server, node-to-node and CLI clients), and creates a private CA and
// node certificates (ECDSA P-256) for `bgdns tls ca create` and
// `bgdns tls cert create`.
//
// Every cluster member presents a certificate signed by the cluster CA that
// carries the DNS name server.bgdns; peers verify that name whatever
// address they dialled, so a certificate from the same CA issued for
// anything else (a client, another service) cannot join the Raft mesh.
// There is no plaintext fallback: a config built here either verifies or
// fails the handshake.
package pki
