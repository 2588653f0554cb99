package dnsserver

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// notifier sends NOTIFY (RFC 1996) to the configured targets whenever a
// zone's serial moves on. It compares the serials of the last State it saw
// with the current one in its own goroutine, never on the query path.
type notifier struct {
	s       *Server
	kickCh  chan struct{}
	serials map[string]uint32 // zone -> serial last seen; loop goroutine only

	mu      sync.Mutex
	pending map[notifyKey]*sender // one sender per zone and target
}

type sender struct{ cancel context.CancelFunc }

type notifyKey struct {
	zone   string
	target netip.AddrPort
}

func newNotifier(s *Server) *notifier {
	return &notifier{
		s:       s,
		kickCh:  make(chan struct{}, 1),
		pending: map[notifyKey]*sender{},
	}
}

func (n *notifier) kick() {
	select {
	case n.kickCh <- struct{}{}:
	default:
	}
}

// start records the current serials (no NOTIFY for them) and runs the loop.
func (n *notifier) start() {
	n.serials = zoneSerials(n.s.src.State())
	n.s.wg.Go(n.loop)
}

func (n *notifier) loop() {
	for {
		select {
		case <-n.s.ctx.Done():
			return
		case <-n.kickCh:
		}
		st := n.s.src.State()
		now := zoneSerials(st)
		var changed []*control.Zone
		for name, serial := range now {
			if old, ok := n.serials[name]; !ok || old != serial {
				changed = append(changed, st.Zone(name))
			}
		}
		n.serials = now
		if len(changed) == 0 || len(n.s.targets) == 0 {
			continue
		}
		if f := n.s.cfg.ShouldNotify; f != nil && !f() {
			continue
		}
		for _, z := range changed {
			for _, t := range n.s.targets {
				n.send(z, t)
			}
		}
	}
}

func zoneSerials(st *control.State) map[string]uint32 {
	zs := st.Zones()
	out := make(map[string]uint32, len(zs))
	for _, z := range zs {
		out[z.Name] = z.Serial
	}
	return out
}

// send notifies target of zone z's new serial in the background, with
// retries; a newer change of the same zone replaces a pending sender.
func (n *notifier) send(z *control.Zone, target netip.AddrPort) {
	key := notifyKey{zone: z.Name, target: target}
	ctx, cancel := context.WithCancel(n.s.ctx)
	me := &sender{cancel: cancel}
	n.mu.Lock()
	if prev := n.pending[key]; prev != nil {
		prev.cancel()
	}
	n.pending[key] = me
	n.mu.Unlock()
	n.s.wg.Go(func() {
		defer func() {
			cancel()
			n.mu.Lock()
			// The entry may already belong to a newer sender.
			if n.pending[key] == me {
				delete(n.pending, key)
			}
			n.mu.Unlock()
		}()
		n.sendWithRetries(ctx, z, target)
	})
}

func (n *notifier) sendWithRetries(ctx context.Context, z *control.Zone, target netip.AddrPort) {
	cfg := n.s.cfg
	backoff := 500 * time.Millisecond
	var err error
	for attempt := 0; attempt <= cfg.NotifyRetries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, 8*time.Second)
		}
		if err = n.exchange(ctx, z, target); err == nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	n.s.log.Warn("notify failed", "zone", z.Name, "serial", z.Serial, "target", target.String(),
		"attempts", cfg.NotifyRetries+1, "err", err)
}

// exchange sends one NOTIFY and waits for its acknowledgement.
func (n *notifier) exchange(ctx context.Context, z *control.Zone, target netip.AddrPort) error {
	m := new(dns.Msg)
	m.SetNotify(z.Name)
	m.Answer = []dns.RR{soaRR(z, z.Name, z.SOA.TTL)}
	c := &dns.Client{Net: "udp", Timeout: n.s.cfg.NotifyTimeout}
	if k, ok := n.s.notifyKey(); ok {
		m.SetTsig(k.Name, k.Algorithm, tsigFudge, time.Now().Unix())
		c.TsigSecret = map[string]string{k.Name: k.Secret}
	}
	ctx, cancel := context.WithTimeout(ctx, n.s.cfg.NotifyTimeout)
	defer cancel()
	r, _, err := c.ExchangeContext(ctx, m, target.String())
	if err != nil {
		return err
	}
	if r.Opcode != dns.OpcodeNotify || r.Rcode != dns.RcodeSuccess {
		return &notifyError{rcode: r.Rcode}
	}
	return nil
}

type notifyError struct{ rcode int }

func (e *notifyError) Error() string {
	return "notify answered " + dns.RcodeToString[e.rcode]
}

// notifyKey is the key that signs NOTIFY messages: the first XFR key.
func (s *Server) notifyKey() (TSIGKey, bool) {
	if len(s.cfg.XFRKeys) == 0 {
		return TSIGKey{}, false
	}
	k, err := ParseTSIGKey(s.cfg.XFRKeys[0])
	return k, err == nil
}
