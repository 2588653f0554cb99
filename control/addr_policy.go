package control

import (
	"net/netip"
	"strconv"
)

// Address ranges that can never be a service's address: this network,
// link-local, limited broadcast, reserved (240/4) and multicast. Loopback
// (127/8, ::1) is refused too unless the zone sets allow_loopback.
var neverService = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"), // includes 255.255.255.255
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// checkPoolAddr refuses an address no client could ever reach a service on.
func checkPoolAddr(a netip.Addr) *Error {
	for _, p := range neverService {
		if p.Contains(a) {
			return Invalid("address %s (in %s) can never be a service address", a, p)
		}
	}
	return nil
}

// checkPoolAddrs refuses bad pool addresses (checkPoolAddr).
func checkPoolAddrs(addrs []netip.Addr) *Error {
	for _, a := range addrs {
		if e := checkPoolAddr(a); e != nil {
			return e
		}
	}
	return nil
}

// loopbackIn returns the first loopback address of the pools.
func loopbackIn(pools ...*Pool) (netip.Addr, bool) {
	for _, p := range pools {
		if p == nil {
			continue
		}
		for _, a := range p.Addresses {
			if a.IsLoopback() {
				return a, true
			}
		}
	}
	return netip.Addr{}, false
}

// checkLoopback refuses loopback pool addresses in a zone that does not
// allow them.
func checkLoopback(z *Zone, pools ...*Pool) *Error {
	if z != nil && z.AllowLoopback {
		return nil
	}
	if a, ok := loopbackIn(pools...); ok {
		name := ""
		if z != nil {
			name = trimDot(z.Name)
		}
		return Invalid("address %s is a loopback address; zone %s does not set allow_loopback", a, name)
	}
	return nil
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }
