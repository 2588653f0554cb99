//go:build !(linux && (amd64 || arm64))

package dnsserver

import "net"

// udpSocket is only used on Linux (udp_thread_linux.go).
type udpSocket struct{}

func (*udpSocket) init() {}

// startUDP runs the portable loop of udp.go.
func (s *Server) startUDP(pc net.PacketConn, readers int) { s.startPollerReaders(pc, readers) }

// stopUDP and closeUDP have nothing to do: closing pc ends the readers.
func (s *Server) stopUDP()  {}
func (s *Server) closeUDP() {}
