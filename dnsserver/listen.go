package dnsserver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// listenBoth binds UDP and TCP on the same address. With port 0 it takes
// the port the system gives UDP and binds TCP on it, trying again with a
// new port when TCP finds it taken.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns address %q: %w", addr, err)
	}
	var lastErr error
	for attempt := 0; attempt < 20; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns udp listen: %w", err)
		}
		udpPort := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(udpPort)))
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, errors.Join(errors.New("dns tcp listen on the udp port"), lastErr)
}
