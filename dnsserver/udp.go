package dnsserver

import (
	"errors"
	"net"
	"net/netip"
)

// maxUDPRequest is the largest UDP request read; longer ones are cut and
// fail to parse.
const maxUDPRequest = 4096

// udpReaders is one way of reading UDP queries, as Knot's udp_api_t is:
// Start picks one (newUDPReaders, one per platform) and keeps to it.
// Whichever it is, every reader answers through its own fast-path cache
// and the handler.
type udpReaders interface {
	// start runs n readers on pc, each in s.wg.
	start(s *Server, pc net.PacketConn, n int)
	// stop tells the readers to leave. Shutdown calls it under s.mu,
	// before it closes pc.
	stop()
	// close releases what the readers held, once none is left.
	close()
}

// pollerReaders are goroutines of the portable loop (serveUDP), waiting
// in the Go runtime's poller. Closing pc ends them: stop and close have
// nothing to do.
type pollerReaders struct{}

func (pollerReaders) start(s *Server, pc net.PacketConn, n int) {
	for range n {
		s.wg.Go(func() { s.serveUDP(pc) })
	}
}

func (pollerReaders) stop()  {}
func (pollerReaders) close() {}

// serveUDP answers queries arriving on pc until it is closed, one
// datagram per read. Several of these run on the same socket, each with
// its own buffer and fast-path cache. On Linux the readers are threads of
// their own with batched system calls instead (udp_thread_linux.go); this
// loop is what runs elsewhere, or when that cannot be set up.
func (s *Server) serveUDP(pc net.PacketConn) {
	buf := make([]byte, maxUDPRequest)
	uc, _ := pc.(*net.UDPConn)
	fast := s.newFastCache() // replycache.go: prebuilt replies, else s.handle
	for {
		var (
			n    int
			from netip.AddrPort
			addr net.Addr
			err  error
		)
		if uc != nil {
			n, from, err = uc.ReadFromUDPAddrPort(buf)
		} else {
			n, addr, err = pc.ReadFrom(buf)
			from = addrPortOf(addr)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		reply := fast.reply(buf[:n], from)
		if reply == nil {
			continue
		}
		if uc != nil {
			_, _ = uc.WriteToUDPAddrPort(reply, from)
		} else {
			_, _ = pc.WriteTo(reply, addr)
		}
	}
}

// addrPortOf extracts the address and port of a UDP or TCP net.Addr.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.UDPAddr:
		return v.AddrPort()
	case *net.TCPAddr:
		return v.AddrPort()
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
