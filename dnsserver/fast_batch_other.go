//go:build !(linux && (amd64 || arm64))

package dnsserver

import "net"

// serveUDPBatch needs recvmmsg and sendmmsg; elsewhere the plain loop runs.
func (s *Server) serveUDPBatch(*net.UDPConn, *fastCache) bool { return false }
