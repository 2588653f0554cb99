// Package testports hands out loopback ports to the harnesses that start
// real bgdns processes (end-to-end tests, the fault suite, the switch
// benchmark).
//
// A port is probed free and released, and the server binds it a moment
// later. Letting the kernel pick the port (":0") draws it from the
// ephemeral range, the same range an outgoing connection takes its local
// port from, so any connection opened in between can take it. Ports here
// come from below that range, where the kernel never puts a connection,
// and none is handed out twice by one process, on any host.
package testports

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// low is the first port handed out.
const low = 10000

// fallbackEphemeral is the start of Linux's default ephemeral range,
// used when /proc does not say.
const fallbackEphemeral = 32768

var (
	mu     sync.Mutex
	handed = map[int]bool{}
)

// ephemeralStart is the first port of the kernel's ephemeral range.
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallbackEphemeral
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return fallbackEphemeral
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return fallbackEphemeral
	}
	return n
}

// Free returns host:port with the port free on host for TCP and, with
// udp, for UDP too (host "0.0.0.0": free on every interface). The port is
// below the ephemeral range when the range leaves room for it, otherwise
// the kernel picks one.
func Free(host string, udp bool) (string, error) {
	hi := ephemeralStart()
	for i := 0; i < 500; i++ {
		port := 0
		if hi-low >= 1000 {
			port = low + rand.IntN(hi-low)
		}
		addr, err := probe(host, port, udp)
		if err != nil {
			if port == 0 {
				return "", err
			}
			continue // taken: try another
		}
		_, ps, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(ps)
		mu.Lock()
		fresh := !handed[p]
		handed[p] = true
		mu.Unlock()
		if fresh {
			return addr, nil
		}
	}
	return "", errors.New("testports: no free port on " + host)
}

// FreeRange returns a port p such that p .. p+count-1 are free on host
// (for TCP, and for UDP too with udp) and hands them all out.
func FreeRange(host string, count int, udp bool) (int, error) {
	hi := ephemeralStart()
	if hi-low < 1000+count {
		return 0, errors.New("testports: the ephemeral range leaves no room below it")
	}
	for try := 0; try < 500; try++ {
		base := low + rand.IntN(hi-low-count)
		if claimRange(host, base, count, udp) {
			return base, nil
		}
	}
	return 0, errors.New("testports: no free range of ports on " + host)
}

// claimRange hands out base .. base+count-1 if none was handed out before
// and each is free on host now.
func claimRange(host string, base, count int, udp bool) bool {
	mu.Lock()
	defer mu.Unlock()
	for p := base; p < base+count; p++ {
		if handed[p] {
			return false
		}
		if _, err := probe(host, p, udp); err != nil {
			return false
		}
	}
	for p := base; p < base+count; p++ {
		handed[p] = true
	}
	return true
}

// probe binds host:port for TCP (and UDP) and releases it.
func probe(host string, port int, udp bool) (string, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	defer l.Close()
	if udp {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return "", err
		}
		pc.Close()
	}
	return addr, nil
}
