package dnsserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults for zero Config fields.
const (
	DefaultUDPSize        = 1232
	DefaultTCPIdleTimeout = 5 * time.Second
	DefaultBusyTCPIdle    = 200 * time.Millisecond
	DefaultMaxTCPConns    = 256
	DefaultMaxTCPQueries  = 100
	DefaultReadTimeout    = 2 * time.Second
	DefaultWriteTimeout   = 2 * time.Second
	DefaultNotifyTimeout  = 2 * time.Second
	DefaultNotifyRetries  = 5
	DefaultRRLRate        = 200 // NSD's rrl-ratelimit
	DefaultStaleTTL       = time.Second
)

// Config configures a Server. Zero values take the defaults above.
type Config struct {
	// Addr is the address to listen on, e.g. "127.0.0.1:5353". Port 0
	// picks a free port; UDP and TCP always end up on the same port.
	Addr string
	// NodeID is answered as the EDNS NSID and as the id.server and
	// hostname.bind CHAOS TXT records.
	NodeID string
	// HideIdentity gives no NSID and refuses id.server and hostname.bind
	// (as NSD's hide-identity): the node id is not told to anyone who asks.
	HideIdentity bool

	Logger *slog.Logger

	// UDPSize is the EDNS0 UDP payload size advertised and the largest UDP
	// reply sent (clients asking for less get less, never under 512).
	UDPSize uint16
	// TCPIdleTimeout closes a TCP connection idle for this long (RFC 7766).
	TCPIdleTimeout time.Duration
	// BusyTCPIdleTimeout replaces TCPIdleTimeout (when shorter) while more
	// than half of MaxTCPConns are in use, as in NSD: clients that keep
	// connections open between sparse queries then give their slots back
	// within this long of each answer, so they cannot lock others out. It
	// also bounds the reading of a query then.
	BusyTCPIdleTimeout time.Duration
	// MaxTCPConns caps concurrent TCP connections; more are closed at once.
	MaxTCPConns int
	// MaxTCPConnsPerSource caps the concurrent TCP connections of one
	// client (one IPv4 address, one IPv6 /64); more are closed at once.
	// 0 means a quarter of MaxTCPConns (at least 1).
	MaxTCPConnsPerSource int
	// MaxTCPQueries caps the queries answered on one TCP connection.
	MaxTCPQueries int
	// ReadTimeout bounds reading one TCP message once it has started;
	// WriteTimeout bounds every write.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	// UDPReaders is the number of UDP readers; 0 means one per CPU the
	// process may use (GOMAXPROCS when New is called). On Linux (amd64,
	// arm64) each is an OS thread that keeps a Go processor of its own
	// while queries come in (udp_thread_linux.go says why). The package
	// never changes GOMAXPROCS: ReaderProcs says by how much the process
	// should raise it while the server runs.
	UDPReaders int

	// NoTXT turns off the _bgdns TXT records of every service.
	NoTXT bool

	// StaleTTL caps every TTL of a reply about our zones while the Source
	// is stale (StaleSource), so that resolvers come back soon for a
	// confirmed answer. Whole seconds; 0 means DefaultStaleTTL.
	StaleTTL time.Duration

	// XFRKeys are the TSIG keys accepted for zone transfers, each
	// "hmac-sha256:NAME:BASE64SECRET" (also hmac-sha1, hmac-sha384,
	// hmac-sha512). The first key signs outgoing NOTIFY messages.
	XFRKeys []string
	// AllowTransfer lists addresses or CIDR prefixes allowed to transfer
	// our zones without TSIG.
	AllowTransfer []string

	// Notify lists ADDR:PORT targets sent a NOTIFY whenever a zone serial
	// changes, when ShouldNotify is nil or returns true (the leader).
	Notify        []string
	ShouldNotify  func() bool
	NotifyTimeout time.Duration // per attempt
	NotifyRetries int           // attempts after the first

	// RRLRate is the response rate limit per client prefix (/24 for IPv4,
	// /56 for IPv6) in responses per second over UDP; 0 means
	// DefaultRRLRate, a negative rate turns limiting off.
	RRLRate int
	// RRLSlip: of the responses over the limit, every RRLSlip-th is sent
	// as an empty truncated reply (so real clients retry over TCP) and the
	// others are dropped; 0 drops them all (as in NSD).
	RRLSlip int

	// MetricsServices bounds the services with answer counters of their
	// own (Stats); the others count together. 0 means
	// DefaultMetricsServices.
	MetricsServices int
}

// ReaderProcs is how many Go processors the server's UDP readers hold
// while it runs, on top of what the rest of the program uses: one per
// reader where readers are threads (Linux on amd64 and arm64), 0
// elsewhere. A process that wants its other goroutines to keep every
// processor they had raises GOMAXPROCS by this much before Start and
// lowers it after Shutdown. Set UDPReaders first when raising GOMAXPROCS
// for several servers: 0 means GOMAXPROCS at the time it is read.
func (c Config) ReaderProcs() int {
	return readerProcs(c.withDefaults().UDPReaders)
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.UDPSize == 0 {
		c.UDPSize = DefaultUDPSize
	}
	if c.UDPSize < dns.MinMsgSize {
		c.UDPSize = dns.MinMsgSize
	}
	if c.TCPIdleTimeout <= 0 {
		c.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if c.BusyTCPIdleTimeout <= 0 {
		c.BusyTCPIdleTimeout = DefaultBusyTCPIdle
	}
	c.BusyTCPIdleTimeout = min(c.BusyTCPIdleTimeout, c.TCPIdleTimeout)
	if c.MaxTCPConns <= 0 {
		c.MaxTCPConns = DefaultMaxTCPConns
	}
	if c.MaxTCPConnsPerSource <= 0 {
		c.MaxTCPConnsPerSource = max(1, c.MaxTCPConns/4)
	}
	c.MaxTCPConnsPerSource = min(c.MaxTCPConnsPerSource, c.MaxTCPConns)
	if c.MaxTCPQueries <= 0 {
		c.MaxTCPQueries = DefaultMaxTCPQueries
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.NotifyTimeout <= 0 {
		c.NotifyTimeout = DefaultNotifyTimeout
	}
	if c.NotifyRetries <= 0 {
		c.NotifyRetries = DefaultNotifyRetries
	}
	if c.UDPReaders <= 0 {
		c.UDPReaders = max(1, runtime.GOMAXPROCS(0))
	}
	if c.RRLRate == 0 {
		c.RRLRate = DefaultRRLRate
	}
	if c.StaleTTL <= 0 {
		c.StaleTTL = DefaultStaleTTL
	}
	return c
}

// Validate checks the fields that are parsed (address, keys, prefixes,
// notify targets, rate limits) without binding anything.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("dns address %q: %w", c.Addr, err))
	}
	if _, err := parseKeys(c.XFRKeys); err != nil {
		errs = append(errs, err)
	}
	if _, err := parsePrefixes(c.AllowTransfer); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseTargets(c.Notify); err != nil {
		errs = append(errs, err)
	}
	if c.MaxTCPConns < 0 || c.MaxTCPConnsPerSource < 0 {
		errs = append(errs, errors.New("tcp connection limits must not be negative"))
	}
	if c.RRLSlip < 0 {
		errs = append(errs, errors.New("rrl slip must not be negative"))
	}
	return errors.Join(errs...)
}

// TSIGKey is one parsed TSIG key.
type TSIGKey struct {
	Name      string // canonical, with trailing dot
	Algorithm string // e.g. dns.HmacSHA256
	Secret    string // base64, as miekg/dns wants it
}

var tsigAlgorithms = map[string]string{
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

// ParseTSIGKey parses "ALGORITHM:NAME:BASE64SECRET", e.g.
// "hmac-sha256:xfr-key:c2VjcmV0c2VjcmV0c2VjcmV0".
func ParseTSIGKey(s string) (TSIGKey, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return TSIGKey{}, fmt.Errorf("tsig key %q: want ALGORITHM:NAME:BASE64SECRET", redact(s))
	}
	alg, ok := tsigAlgorithms[strings.ToLower(parts[0])]
	if !ok {
		return TSIGKey{}, fmt.Errorf("tsig key: unknown algorithm %q (want hmac-sha256, hmac-sha512, ...)", parts[0])
	}
	name := strings.ToLower(strings.TrimSpace(parts[1]))
	if name == "" || name == "." {
		return TSIGKey{}, errors.New("tsig key: empty name")
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return TSIGKey{}, fmt.Errorf("tsig key: invalid name %q", parts[1])
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) == 0 {
		return TSIGKey{}, fmt.Errorf("tsig key %s: secret is not valid base64", name)
	}
	return TSIGKey{Name: dns.Fqdn(name), Algorithm: alg, Secret: parts[2]}, nil
}

// redact hides the secret part of a key string in error messages.
func redact(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[:i] + ":…"
	}
	return "…"
}

func parseKeys(in []string) (map[string]TSIGKey, error) {
	out := make(map[string]TSIGKey, len(in))
	for _, s := range in {
		k, err := ParseTSIGKey(s)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k.Name]; dup {
			return nil, fmt.Errorf("tsig key %s given twice", k.Name)
		}
		out[k.Name] = k
	}
	return out, nil
}

func parsePrefixes(in []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("allow-transfer %q: not an address or CIDR prefix", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func parseTargets(in []string) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(in))
	for _, s := range in {
		ap, err := netip.ParseAddrPort(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("notify target %q: want ADDR:PORT (e.g. 192.0.2.1:53 or [2001:db8::1]:53)", s)
		}
		out = append(out, ap)
	}
	return out, nil
}
