package netlimit

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// refusalLogInterval spaces the log lines about one refused source.
const refusalLogInterval = time.Minute

// Limiter counts open connections in all and per source address.
type Limiter struct {
	max, perSource int
	log            *slog.Logger
	what           string

	mu      sync.Mutex
	open    int
	sources map[netip.Addr]int
	lastLog map[netip.Addr]time.Time
}

// New returns a limiter of max connections in all and perSource from one
// address (at least 1 each). what names the listener in log lines.
func New(total, perSource int, what string, log *slog.Logger) *Limiter {
	if log == nil {
		log = slog.Default()
	}
	total = max(total, 1)
	return &Limiter{
		max: total, perSource: min(max(perSource, 1), total), log: log, what: what,
		sources: map[netip.Addr]int{}, lastLog: map[netip.Addr]time.Time{},
	}
}

// Admit counts a new connection from src and returns the function that
// releases it (idempotent), or false when a bound is reached.
func (l *Limiter) Admit(src netip.Addr) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.max || l.sources[src] >= l.perSource {
		l.refusedLocked(src, "connection limit reached", nil)
		return nil, false
	}
	l.open++
	l.sources[src]++
	var once sync.Once
	return func() { once.Do(func() { l.release(src) }) }, true
}

func (l *Limiter) release(src netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.sources[src]--; l.sources[src] <= 0 {
		delete(l.sources, src)
	}
}

// Total is the bound on all connections.
func (l *Limiter) Total() int { return l.max }

// Open is the number of connections counted now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Busy reports whether more than half of the connections are in use: a
// listener then gives a connection that has not proven itself yet (a TLS
// handshake, a first request) much less time, as NSD does for DNS TCP, so
// that idle connections from many sources cannot hold every slot.
func (l *Limiter) Busy() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open > l.max/2
}

// HandshakeTimeout is how long a new connection may take to authenticate:
// long normally, short while the limiter is busy.
func (l *Limiter) HandshakeTimeout(normal time.Duration) time.Duration {
	if l.Busy() {
		return min(normal, BusyHandshakeTimeout)
	}
	return normal
}

// BusyHandshakeTimeout bounds a handshake while more than half of the
// connections are in use.
const BusyHandshakeTimeout = 500 * time.Millisecond

// Refused logs that a connection from src was refused for why, at most
// once per source per minute.
func (l *Limiter) Refused(src netip.Addr, why string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refusedLocked(src, why, err)
}

func (l *Limiter) refusedLocked(src netip.Addr, why string, err error) {
	now := time.Now()
	if last, ok := l.lastLog[src]; ok && now.Sub(last) < refusalLogInterval {
		return
	}
	if len(l.lastLog) > 4096 {
		clear(l.lastLog)
	}
	l.lastLog[src] = now
	args := []any{"listener", l.what, "source", src.String(), "reason", why}
	if err != nil {
		args = append(args, "err", err)
	}
	l.log.Warn("connection refused", args...)
}

// Source is the IP address of a connection's remote end.
func Source(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}
