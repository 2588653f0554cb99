//go:build !(linux && (amd64 || arm64))

package dnsserver

import "net"

// udpSocket is only used on Linux (udp_thread_linux.go).
type udpSocket struct{}

func (*udpSocket) init() {}

// startUDP runs readers goroutines on pc: the plain loop of udp.go.
func (s *Server) startUDP(pc net.PacketConn, readers int) {
	tuneUDP(pc)
	for range readers {
		s.wg.Go(func() { s.serveUDP(pc) })
	}
}

// stopUDP and closeUDP have nothing to do: closing pc ends the readers.
func (s *Server) stopUDP()  {}
func (s *Server) closeUDP() {}
