package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/bgdns/bgdns/control"
)

// Source is where answers come from (cluster.Node implements it).
type Source interface {
	// State is the current applied state, never nil; a lock-free read.
	State() *control.State
	// Serving is false when the node must not answer from its state (not
	// caught up, or stale under the servfail policy): our zones then
	// answer SERVFAIL.
	Serving() bool
}

// Server is an authoritative DNS server for the zones of a Source.
type Server struct {
	cfg   Config
	src   Source
	stale StaleSource // src, when it can be stale; nil otherwise
	log   *slog.Logger
	clock func() time.Time // nil: time.Now; tests set it

	keys     map[string]TSIGKey
	allow    []netip.Prefix
	targets  []netip.AddrPort
	rrl      *rrl
	rrlClock rrlClock

	pc  net.PacketConn
	ln  net.Listener
	udp udpReaders // chosen in Start; nil before

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	tcpSlots chan struct{}

	tcpMu        sync.Mutex
	tcpPerSource map[netip.Prefix]int // open TCP connections per client

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool

	notify *notifier
	stats  *statsHub // stats.go
}

// New returns a server for src. Nothing is bound until Start.
func New(cfg Config, src Source) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:          cfg,
		src:          src,
		log:          cfg.Logger,
		tcpSlots:     make(chan struct{}, cfg.MaxTCPConns),
		tcpPerSource: map[netip.Prefix]int{},
		conns:        map[net.Conn]struct{}{},
		stats:        newStatsHub(cfg.MetricsServices),
	}
	s.stale, _ = src.(StaleSource)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// Parse errors are reported by Start; until then the server has no
	// keys and no allow list, so it transfers to nobody.
	s.keys, _ = parseKeys(cfg.XFRKeys)
	s.allow, _ = parsePrefixes(cfg.AllowTransfer)
	s.targets, _ = parseTargets(cfg.Notify)
	s.rrl = newRRL(cfg.RRLRate, cfg.RRLSlip)
	s.notify = newNotifier(s)
	return s
}

// Start validates the configuration, binds UDP and TCP on the same port
// and returns once both listen.
func (s *Server) Start() error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed || s.pc != nil {
		s.mu.Unlock()
		return errors.New("dns server already started or shut down")
	}
	pc, ln, err := listenBoth(s.cfg.Addr)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	tuneUDP(pc) // udp_sockopt_*.go
	s.pc, s.ln = pc, ln
	s.udp = newUDPReaders(pc, s.log) // udp_other.go, udp_thread_linux.go
	s.mu.Unlock()

	s.udp.start(s, pc, s.cfg.UDPReaders)
	s.wg.Go(func() { s.serveTCP(ln) })
	if s.rrl != nil {
		s.rrlClock.sec.Store(time.Now().Unix())
		s.wg.Go(func() { s.rrlClock.run(s.ctx) })
	}
	s.notify.start()
	s.log.Info("dns server listening", "addr", s.Addr(), "udp_size", s.cfg.UDPSize,
		"xfr_keys", len(s.keys), "allow_transfer", len(s.allow), "notify", len(s.targets),
		"rrl_rate", max(0, s.cfg.RRLRate))
	return nil
}

// Addr is the bound address (host:port), the same for UDP and TCP. Before
// Start it is the configured address.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pc == nil {
		return s.cfg.Addr
	}
	return s.pc.LocalAddr().String()
}

// StateChanged tells the server that the Source applied a change. It never
// blocks; NOTIFY messages for zones whose serial moved go out from a
// background goroutine.
func (s *Server) StateChanged() { s.notify.kick() }

// Shutdown stops listening, closes open TCP connections, stops pending
// NOTIFY retries and waits for every goroutine (or ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	if s.udp != nil {
		s.udp.stop()
	}
	var errs []error
	if s.pc != nil {
		errs = append(errs, s.pc.Close())
	}
	if s.ln != nil {
		errs = append(errs, s.ln.Close())
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.mu.Lock()
		if s.udp != nil {
			s.udp.close()
		}
		s.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("dns server shutdown: %w", ctx.Err())
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, net.ErrClosed) {
			return e
		}
	}
	return nil
}

// track adds (or removes) a TCP connection to those closed at shutdown; it
// returns false when the server is already shutting down.
func (s *Server) track(c net.Conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.closed {
			return false
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}
