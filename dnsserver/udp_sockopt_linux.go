package dnsserver

import (
	"net"
	"syscall"
)

// udpReadBuffer is the receive buffer asked for on the UDP socket: bursts
// of queries wait in it instead of being dropped by the kernel.
const udpReadBuffer = 4 << 20

// tuneUDP enlarges the socket's receive buffer. SO_RCVBUFFORCE passes the
// system's rmem_max when the process may (CAP_NET_ADMIN), as NSD does;
// otherwise the ordinary, capped, request is made.
func tuneUDP(pc net.PacketConn) {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return
	}
	var forced bool
	if rc, err := uc.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			forced = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, udpReadBuffer) == nil
		})
	}
	if !forced {
		_ = uc.SetReadBuffer(udpReadBuffer)
	}
}
