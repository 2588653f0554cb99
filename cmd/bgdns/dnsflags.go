package main

import (
	"errors"
	"strconv"

	"github.com/bgdns/bgdns/dnsserver"
	"github.com/spf13/pflag"
)

// addDNSFlags registers the nameserver's own options.
func addDNSFlags(f *pflag.FlagSet, c *dnsserver.Config) {
	f.StringSliceVar(&c.XFRKeys, "xfr-key", nil, "TSIG key allowed to transfer zones, hmac-sha256:NAME:BASE64SECRET (repeatable; the first signs NOTIFY)")
	f.StringSliceVar(&c.AllowTransfer, "allow-transfer", nil, "address or CIDR allowed to transfer zones without TSIG (repeatable)")
	f.StringSliceVar(&c.Notify, "notify", nil, "ADDR:PORT sent a NOTIFY when a zone changes, by the leader (repeatable)")
	c.RRLRate = dnsserver.DefaultRRLRate
	f.Var((*rrlRate)(&c.RRLRate), "rrl-rate", "response rate limit per /24 or /56 in responses per second over UDP (0: off)")
	f.IntVar(&c.RRLSlip, "rrl-slip", 2, "every Nth response over the limit goes out truncated, the others are dropped (0: drop all)")
	f.BoolVar(&c.HideIdentity, "hide-identity", false, "give no NSID and refuse the CHAOS names id.server and hostname.bind (version.bind is always refused)")
	f.BoolVar(&c.NoTXT, "no-txt", false, "do not publish the _bgdns TXT record of any service")
	f.Uint16Var(&c.UDPSize, "udp-size", 1232, "EDNS0 UDP payload size advertised and the largest UDP reply")
	f.IntVar(&c.UDPReaders, "dns-readers", 0, "UDP reader threads (0: one per CPU the process may use)")
	f.IntVar(&c.MaxTCPConns, "max-tcp-conns", 256, "concurrent DNS TCP connections; above half of them, idle connections are closed after 200ms")
	f.IntVar(&c.MaxTCPConnsPerSource, "max-tcp-conns-per-source", 0, "concurrent DNS TCP connections from one IPv4 address or IPv6 /64 (0: a quarter of --max-tcp-conns)")
	f.DurationVar(&c.StaleTTL, "stale-ttl", dnsserver.DefaultStaleTTL, "largest TTL of any answer while the node serves a state it could not confirm (no leader); whole seconds")
	f.DurationVar(&c.TCPIdleTimeout, "tcp-idle-timeout", 0, "close DNS TCP connections idle this long (0: the server's default)")
}

// rrlRate is --rrl-rate: responses per second, 0 for off (which
// dnsserver.Config spells as a negative rate, its 0 being the default).
type rrlRate int

func (r *rrlRate) String() string { return strconv.Itoa(max(0, int(*r))) }
func (r *rrlRate) Type() string   { return "int" }

func (r *rrlRate) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	if n < 0 {
		return errors.New("must not be negative (0 turns rate limiting off)")
	}
	if n == 0 {
		n = -1
	}
	*r = rrlRate(n)
	return nil
}
