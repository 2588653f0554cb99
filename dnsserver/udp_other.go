//go:build !(linux && (amd64 || arm64))

package dnsserver

import (
	"log/slog"
	"net"
)

// newUDPReaders picks the portable loop of udp.go: only Linux on amd64
// and arm64 has reader threads.
func newUDPReaders(net.PacketConn, *slog.Logger) udpReaders { return pollerReaders{} }

// readerProcs is 0: the portable readers hold no processor of their own.
func readerProcs(int) int { return 0 }
