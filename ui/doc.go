// Package ui is the status page served at /ui/: one HTML page, one script
// and one stylesheet embedded in the binary, with no external asset. The
// page reads the REST API (services, cluster, the event stream) and
// /metrics with the token the user types, kept in sessionStorage and sent
// in the Authorization header only.
package ui
