package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/spf13/pflag"

	"github.com/bgdns/bgdns/dnsserver"
	"github.com/bgdns/bgdns/metrics"
	"github.com/bgdns/bgdns/netlimit"
)

// metricsConfig is how a node exports its metrics: always at /metrics on
// the API listener (role read), and on a separate plain listener when
// Addr is set.
type metricsConfig struct {
	Addr     string
	PProf    bool
	Services int
}

func addMetricsFlags(f *pflag.FlagSet, c *metricsConfig) {
	f.StringVar(&c.Addr, "metrics-addr", "", "also serve /metrics on this plain HTTP address, without authentication (loopback only unless --insecure)")
	f.BoolVar(&c.PProf, "pprof", false, "serve Go's /debug/pprof/ profiles on --metrics-addr")
	f.IntVar(&c.Services, "metrics-services", dnsserver.DefaultMetricsServices, "services with metric series of their own (the others are counted together as service \"_other\")")
}

// Bounds of the metrics listener.
const (
	maxMetricsConns      = 64
	metricsReadTimeout   = 10 * time.Second
	metricsWriteTimeout  = 30 * time.Second // a CPU profile takes its seconds=N; longer ones are cut
	metricsIdleTimeout   = 60 * time.Second
	metricsHeaderTimeout = 5 * time.Second
	metricsHeaderBytes   = 16 << 10
)

// check refuses a plain metrics listener off loopback unless insecure is
// allowed, as for the API, and a --pprof without it.
func (c metricsConfig) check(insecure bool, log *slog.Logger) error {
	if c.PProf && c.Addr == "" {
		return errors.New("--pprof needs --metrics-addr: profiles are only served on the metrics listener")
	}
	if c.Addr == "" || isLoopback(c.Addr) {
		return nil
	}
	if !insecure {
		return fmt.Errorf("refusing to serve metrics without authentication on --metrics-addr %s: use a loopback address, "+
			"scrape /metrics on the API with a token, or give --insecure", c.Addr)
	}
	log.Warn("INSECURE: metrics (and profiles, with --pprof) without authentication on a non-loopback address", "metrics-addr", c.Addr, "pprof", c.PProf)
	return nil
}

// serveMetrics starts the plain metrics listener; nil when there is none.
func (c metricsConfig) serve(m *metrics.Metrics, log *slog.Logger) (*http.Server, error) {
	if c.Addr == "" {
		return nil, nil
	}
	raw, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	lim := netlimit.New(maxMetricsConns, maxMetricsConns/4, "metrics", log.With("component", "metrics"))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if c.PProf {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadTimeout:       metricsReadTimeout,
		ReadHeaderTimeout: metricsHeaderTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       metricsIdleTimeout,
		MaxHeaderBytes:    metricsHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := srv.Serve(netlimit.Wrap(raw, lim)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", raw.Addr().String(), "pprof", c.PProf)
	return srv, nil
}
