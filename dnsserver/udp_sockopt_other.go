//go:build !linux

package dnsserver

import "net"

const udpReadBuffer = 4 << 20

// tuneUDP enlarges the socket's receive buffer as far as the system allows.
func tuneUDP(pc net.PacketConn) {
	if uc, ok := pc.(*net.UDPConn); ok {
		_ = uc.SetReadBuffer(udpReadBuffer)
	}
}
