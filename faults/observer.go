package faults

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Sample is one DNS answer of one node, for one service.
type Sample struct {
	At       int64  `json:"at"` // ns since the start of the run
	Node     string `json:"node"`
	Service  string `json:"service"`
	Revision uint64 `json:"revision"`
	Active   string `json:"active"`
}

// DNSStats sums up what an observer saw on one node.
type DNSStats struct {
	Node      string `json:"node"`
	Queries   int    `json:"queries"`
	Answers   int    `json:"answers"`   // NOERROR with a readable TXT
	Servfail  int    `json:"servfail"`  // SERVFAIL (not serving, or stale)
	Stale     int    `json:"stale"`     // answers carrying EDE 3 (stale answer)
	Errors    int    `json:"errors"`    // timeouts and other failures
	BadA      int    `json:"bad_a"`     // A answers with an address of neither pool
	Decreases int    `json:"decreases"` // NOERROR answers with a lower revision than before
}

// Observer polls every node's _bgdns TXT and A records and keeps, per node
// and service, the revisions it saw (only the changes, with their time).
type Observer struct {
	rec   *Recorder
	mu    sync.Mutex
	last  map[string]map[string]uint64 // node -> service -> highest fresh revision
	stats map[string]*DNSStats
	// Changes are the NOERROR samples whose revision differs from the
	// node's previous one for that service.
	Changes []Sample
	// Decreases are NOERROR answers (stale ones too) with a lower
	// revision than one the same node gave before.
	Decreases []Sample
	// Answers is every answer (and failed query), for the stale checks.
	Answers []Answer
}

// Answer is one query of an observer and what came back.
type Answer struct {
	Sent     int64  `json:"sent"` // ns since the start of the run
	Recv     int64  `json:"recv"`
	Node     string `json:"node"`
	Service  string `json:"service"`
	Rcode    int    `json:"rcode"` // -1: no answer (timeout, error)
	Stale    bool   `json:"stale,omitempty"`
	MaxTTL   uint32 `json:"max_ttl"`
	Revision uint64 `json:"revision,omitempty"`
	HasRev   bool   `json:"has_rev,omitempty"`
}

func NewObserver(rec *Recorder) *Observer {
	return &Observer{rec: rec, last: map[string]map[string]uint64{}, stats: map[string]*DNSStats{}}
}

// Run polls node n every interval until ctx is done.
func (o *Observer) Run(ctx context.Context, n *Node, services []string, interval time.Duration, wg *sync.WaitGroup) {
	o.mu.Lock()
	if o.stats[n.ID] == nil {
		o.stats[n.ID] = &DNSStats{Node: n.ID}
		o.last[n.ID] = map[string]uint64{}
	}
	o.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		i := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if n.Paused() || !n.Running() {
				continue
			}
			svc := services[i%len(services)]
			i++
			o.poll(c, n, svc)
		}
	}()
}

func (o *Observer) poll(c *dns.Client, n *Node, svc string) {
	m := new(dns.Msg)
	m.SetQuestion("_bgdns."+svc, dns.TypeTXT)
	m.SetEdns0(1232, false)
	sent := o.rec.now()
	r, _, err := c.Exchange(m, n.DNSAddr)
	at := o.rec.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	st := o.stats[n.ID]
	st.Queries++
	if err != nil {
		st.Errors++
		o.Answers = append(o.Answers, Answer{Sent: sent, Recv: at, Node: n.ID, Service: svc, Rcode: -1})
		return
	}
	stale := hasEDE(r, dns.ExtendedErrorCodeStaleAnswer)
	rev, active, ok := parseTXT(r)
	a := Answer{Sent: sent, Recv: at, Node: n.ID, Service: svc, Rcode: r.Rcode, Stale: stale, Revision: rev, HasRev: ok}
	for _, rr := range append(append([]dns.RR(nil), r.Answer...), r.Ns...) {
		a.MaxTTL = max(a.MaxTTL, rr.Header().Ttl)
	}
	o.Answers = append(o.Answers, a)
	if stale {
		st.Stale++
	}
	if r.Rcode == dns.RcodeServerFailure {
		st.Servfail++
		return
	}
	if !ok {
		st.Errors++
		return
	}
	st.Answers++
	// Stale answers count too: a node never serves an older revision than
	// it served before, whatever its stale policy.
	s := Sample{At: at, Node: n.ID, Service: svc, Revision: rev, Active: active}
	prev, seen := o.last[n.ID][svc]
	switch {
	case seen && rev < prev:
		st.Decreases++
		o.Decreases = append(o.Decreases, s)
	case !seen || rev != prev:
		o.last[n.ID][svc] = rev
		o.Changes = append(o.Changes, s)
	}
}

// CheckA asks n for the A record of svc and counts answers whose address
// belongs to neither pool.
func (o *Observer) CheckA(n *Node, svc string) {
	c := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(svc, dns.TypeA)
	r, _, err := c.Exchange(m, n.DNSAddr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		return
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			if s := a.A.String(); s != "10.0.0.1" && s != "10.0.0.2" {
				o.mu.Lock()
				o.stats[n.ID].BadA++
				o.mu.Unlock()
			}
		}
	}
}

// Stats returns the per-node counters.
func (o *Observer) Stats() []DNSStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []DNSStats
	for _, s := range o.stats {
		out = append(out, *s)
	}
	return out
}

// DNSRevision asks n for svc's _bgdns TXT and returns its revision.
func DNSRevision(n *Node, svc string) (uint64, string, error) {
	c := &dns.Client{Net: "udp", Timeout: 500 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("_bgdns."+svc, dns.TypeTXT)
	r, _, err := c.Exchange(m, n.DNSAddr)
	if err != nil {
		return 0, "", err
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, "", &rcodeError{r.Rcode}
	}
	rev, active, ok := parseTXT(r)
	if !ok {
		return 0, "", &rcodeError{-1}
	}
	return rev, active, nil
}

type rcodeError struct{ rcode int }

func (e *rcodeError) Error() string {
	if e.rcode < 0 {
		return "no readable TXT"
	}
	return "rcode " + dns.RcodeToString[e.rcode]
}

func parseTXT(r *dns.Msg) (rev uint64, active string, ok bool) {
	for _, rr := range r.Answer {
		t, isTXT := rr.(*dns.TXT)
		if !isTXT {
			continue
		}
		for _, f := range strings.Fields(strings.Join(t.Txt, " ")) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "revision":
				n, err := strconv.ParseUint(v, 10, 64)
				if err == nil {
					rev, ok = n, true
				}
			case "active":
				active = v
			}
		}
	}
	return rev, active, ok
}

func hasEDE(r *dns.Msg, code uint16) bool {
	opt := r.IsEdns0()
	if opt == nil {
		return false
	}
	for _, o := range opt.Option {
		if e, ok := o.(*dns.EDNS0_EDE); ok && e.InfoCode == code {
			return true
		}
	}
	return false
}
