package prober

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/bgdns/bgdns/control"
)

// Backend is what the prober needs from the node it runs on; cluster.Node
// implements it.
type Backend interface {
	// State is this node's current applied state.
	State() *control.State
	// IsLeader reports whether this node is the Raft leader now.
	IsLeader() bool
	// Propose commits cmd and returns Apply's result.
	Propose(ctx context.Context, cmd control.Command) (control.Result, error)
}

// Options tune the prober. Zero fields take defaults.
type Options struct {
	// Tick is how often the prober looks for due probes, transitions to
	// commit and validation windows (default 50ms).
	Tick time.Duration
	// Concurrency bounds the probes in flight (default 64).
	Concurrency int
	// ProposeTimeout bounds one Propose (default 5s).
	ProposeTimeout time.Duration
	// Backoff is how long the prober waits before proposing again for a
	// service after a failed proposal (default 1s).
	Backoff time.Duration
	// Actor is written to the history of what the prober commits
	// (default "bgdns").
	Actor string
	// Logger receives transitions and failures (default slog.Default()).
	Logger *slog.Logger
}

// DefaultActor is the actor of the commands the prober commits.
const DefaultActor = "bgdns"

func (o Options) withDefaults() Options {
	if o.Tick <= 0 {
		o.Tick = 50 * time.Millisecond
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.ProposeTimeout <= 0 {
		o.ProposeTimeout = 5 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.Actor == "" {
		o.Actor = DefaultActor
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Prober probes while its node is the leader. Everything but the probes
// themselves runs on the goroutine of Run, so it needs no locks.
type Prober struct {
	b      Backend
	opts   Options
	log    *slog.Logger
	client *http.Client

	sem     chan struct{} // one token per probe in flight
	results chan result   // capacity Concurrency: a probe never blocks on send
	wg      sync.WaitGroup

	leading bool
	gen     uint64 // bumped when leadership is lost; older results are dropped
	seen    *control.State
	watched []*control.Service // services with a check or a validation window
	targets map[key]*target
	holdOff map[string]time.Time // service -> no proposal before
}

type key struct {
	svc  string
	addr netip.Addr
}

// target is one address of one service as the prober sees it.
type target struct {
	hc        control.HealthCheck
	next      time.Time // next probe due
	inflight  bool
	okRun     int                  // successes in a row
	failRun   int                  // failures in a row
	status    control.HealthStatus // after hysteresis
	committed control.HealthStatus // as last seen in the state
	detail    string
}

type result struct {
	key    key
	gen    uint64
	ok     bool
	detail string
}

// New returns a prober for backend b. Call Run to start it.
func New(b Backend, opts Options) *Prober {
	opts = opts.withDefaults()
	return &Prober{
		b: b, opts: opts, log: opts.Logger.With("component", "prober"),
		client:  newHTTPClient(),
		sem:     make(chan struct{}, opts.Concurrency),
		results: make(chan result, opts.Concurrency),
		targets: map[key]*target{},
		holdOff: map[string]time.Time{},
	}
}

// Run probes while this node is the leader, until ctx ends. It returns once
// every probe it started has finished.
func (p *Prober) Run(ctx context.Context) {
	t := time.NewTicker(p.opts.Tick)
	defer t.Stop()
	defer p.wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-p.results:
			p.record(r)
		case <-t.C:
			p.tick(ctx)
		}
	}
}

func (p *Prober) tick(ctx context.Context) {
	if !p.b.IsLeader() {
		if p.leading {
			p.stepDown()
		}
		return
	}
	if !p.leading {
		p.leading = true
		p.log.Info("leader: health checks and validation windows start")
	}
	now := time.Now()
	st := p.b.State()
	p.refresh(st, now)
	p.launch(ctx, now)
	p.commitTransitions(ctx, now)
	p.watchValidation(ctx, now)
}

// stepDown forgets everything local: the next leader starts from the
// committed state, and so does this node if it leads again.
func (p *Prober) stepDown() {
	p.leading = false
	p.gen++
	p.seen, p.watched = nil, nil
	p.targets = map[key]*target{}
	p.holdOff = map[string]time.Time{}
	p.log.Info("no longer leader: health checks stop")
}

// refresh brings the targets in line with st: one per address of both
// colours of each service with a health check.
func (p *Prober) refresh(st *control.State, now time.Time) {
	if st == p.seen {
		return
	}
	p.seen = st
	p.watched = p.watched[:0]
	live := make(map[key]bool, len(p.targets))
	st.RangeServices(func(svc *control.Service) bool {
		if svc.HealthCheck == nil && svc.State != control.PhaseValidating {
			return true
		}
		p.watched = append(p.watched, svc)
		if svc.HealthCheck == nil {
			return true
		}
		for _, pool := range []*control.Pool{svc.Blue, svc.Green} {
			if pool == nil {
				continue
			}
			for _, a := range pool.Addresses {
				k := key{svc.Name, a}
				live[k] = true
				p.refreshTarget(k, svc, now)
			}
		}
		return true
	})
	for k := range p.targets {
		if !live[k] {
			delete(p.targets, k)
		}
	}
}

func (p *Prober) refreshTarget(k key, svc *control.Service, now time.Time) {
	committed := svc.AddrStatus(k.addr).Status
	t := p.targets[k]
	switch {
	case t == nil || t.hc != *svc.HealthCheck:
		// new, or probed differently now: start over from the committed status
		inflight := t != nil && t.inflight
		t = &target{hc: *svc.HealthCheck, next: now, status: committed, committed: committed, inflight: inflight}
		p.targets[k] = t
	case committed != t.committed:
		t.committed = committed
		if committed != t.status {
			// changed by someone else (a deploy or a put reset it): follow it
			t.status, t.okRun, t.failRun = committed, 0, 0
		}
	}
}

// launch starts the probes that are due, as far as the bound allows.
func (p *Prober) launch(ctx context.Context, now time.Time) {
	for k, t := range p.targets {
		if t.inflight || now.Before(t.next) {
			continue
		}
		select {
		case p.sem <- struct{}{}:
		default:
			return // all slots busy: the rest wait for the next tick
		}
		t.inflight = true
		t.next = now.Add(t.hc.Interval.D())
		p.wg.Add(1)
		go func(k key, hc control.HealthCheck, gen uint64) {
			defer p.wg.Done()
			pctx, cancel := context.WithTimeout(ctx, hc.Timeout.D())
			ok, detail := probe(pctx, p.client, hc, k.addr)
			cancel()
			// the token is held until the result is queued, so at most
			// Concurrency results wait and the send never blocks
			p.results <- result{key: k, gen: gen, ok: ok, detail: detail}
			<-p.sem
		}(k, t.hc, p.gen)
	}
}

// record applies rise/fall hysteresis to one probe result.
func (p *Prober) record(r result) {
	if r.gen != p.gen {
		return
	}
	t := p.targets[r.key]
	if t == nil {
		return
	}
	t.inflight = false
	t.detail = r.detail
	if r.ok {
		t.okRun++
		t.failRun = 0
		if t.status != control.HealthUp && t.okRun >= t.hc.Rise {
			t.status = control.HealthUp
		}
		return
	}
	t.failRun++
	t.okRun = 0
	if t.status != control.HealthDown && t.failRun >= t.hc.Fall {
		t.status = control.HealthDown
	}
}

func (p *Prober) held(svc string, now time.Time) bool {
	until, ok := p.holdOff[svc]
	if ok && now.Before(until) {
		return true
	}
	delete(p.holdOff, svc)
	return false
}

// propose commits cmd stamped with the prober's actor (the leader stamps
// the time). A failure holds the service off for Backoff.
func (p *Prober) propose(ctx context.Context, cmd control.Command, now time.Time) (control.Result, bool) {
	cmd.Actor = p.opts.Actor
	pctx, cancel := context.WithTimeout(ctx, p.opts.ProposeTimeout)
	defer cancel()
	res, err := p.b.Propose(pctx, cmd)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		p.holdOff[cmd.Name] = now.Add(p.opts.Backoff)
		if ctx.Err() == nil {
			p.log.Warn("proposal failed", "op", cmd.Op, "service", cmd.Name, "err", err)
		}
		return res, false
	}
	return res, true
}
