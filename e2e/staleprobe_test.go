package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The fail-static tests need more queries than dig can make (one every
// millisecond), and the Extended DNS Error of each answer: they speak DNS
// with miekg/dns directly. Writers record when each change was
// acknowledged, so that an answer can be held to what was committed
// before it was asked.

// dnsReply is one query and what came back.
type dnsReply struct {
	Sent, Recv time.Time
	Err        error // no answer (timeout, port closed)
	Rcode      int
	Truncated  bool
	EDE        []uint16 // Extended DNS Error codes in the OPT record
	MaxTTL     uint32   // the largest TTL in any section but the OPT
	Revision   uint64   // revision= of the _bgdns TXT, when HasRev
	HasRev     bool
	Msg        *dns.Msg
}

// Stale reports whether the answer carries Extended DNS Error 3.
func (r dnsReply) Stale() bool {
	for _, c := range r.EDE {
		if c == dns.ExtendedErrorCodeStaleAnswer {
			return true
		}
	}
	return false
}

func (r dnsReply) String() string {
	if r.Err != nil {
		return fmt.Sprintf("sent %s: no answer: %v", r.Sent.Format("15:04:05.000"), r.Err)
	}
	tc := ""
	if r.Truncated {
		tc = " tc"
	}
	return fmt.Sprintf("sent %s recv %s: %s%s ede=%v maxttl=%d revision=%d",
		r.Sent.Format("15:04:05.000"), r.Recv.Format("15:04:05.000"),
		dns.RcodeToString[r.Rcode], tc, r.EDE, r.MaxTTL, r.Revision)
}

// queryDNS asks addr one UDP question, with EDNS (1232 bytes) when edns
// is set, and reads the parts of the reply the stale rules are about.
func queryDNS(addr, name string, qtype uint16, edns bool, timeout time.Duration) dnsReply {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	if edns {
		m.SetEdns0(1232, false)
	}
	c := &dns.Client{Net: "udp", Timeout: timeout, UDPSize: 1232}
	r := dnsReply{Sent: time.Now()}
	resp, _, err := c.Exchange(m, addr)
	r.Recv = time.Now()
	if err != nil {
		r.Err = err
		return r
	}
	r.Msg, r.Rcode, r.Truncated = resp, resp.Rcode, resp.Truncated
	if opt := resp.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				r.EDE = append(r.EDE, e.InfoCode)
			}
		}
	}
	for _, sec := range [][]dns.RR{resp.Answer, resp.Ns, resp.Extra} {
		for _, rr := range sec {
			if h := rr.Header(); h.Rrtype != dns.TypeOPT && h.Ttl > r.MaxTTL {
				r.MaxTTL = h.Ttl
			}
		}
	}
	for _, rr := range resp.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			for _, kv := range strings.Fields(strings.Join(txt.Txt, " ")) {
				if v, ok := strings.CutPrefix(kv, "revision="); ok {
					if n, err := strconv.ParseUint(v, 10, 64); err == nil {
						r.Revision, r.HasRev = n, true
					}
				}
			}
		}
	}
	return r
}

// txtName is the name whose TXT record carries the service's revision.
const txtName = "_bgdns." + svcName

// prober asks one name of one node, from several goroutines, each once a
// millisecond at most, and keeps every reply.
type prober struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	all  []dnsReply
}

// startProber starts workers goroutines querying addr for name/qtype (with
// EDNS) until Stop, or until limit has passed (the loop is bounded even
// if the test forgets to stop it).
func startProber(t testing.TB, addr, name string, qtype uint16, workers int, limit time.Duration) *prober {
	p := &prober{stop: make(chan struct{})}
	end := time.Now().Add(limit)
	for i := 0; i < workers; i++ {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			for time.Now().Before(end) {
				select {
				case <-p.stop:
					return
				case <-tick.C:
				}
				r := queryDNS(addr, name, qtype, true, 100*time.Millisecond)
				r.Msg = nil // keep memory flat: thousands of replies
				p.mu.Lock()
				p.all = append(p.all, r)
				p.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// Stop ends the probing (once) and returns every reply, by send time.
func (p *prober) Stop() []dnsReply {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append([]dnsReply(nil), p.all...)
	sort.Slice(out, func(i, j int) bool { return out[i].Sent.Before(out[j].Sent) })
	return out
}

// Snapshot returns the replies so far without stopping.
func (p *prober) Snapshot() []dnsReply {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]dnsReply(nil), p.all...)
}

// commitRec is one acknowledged change: the service's revision and when
// the writer had the acknowledgement in hand (the commit happened before).
type commitRec struct {
	Rev   uint64
	Acked time.Time
}

// putColour replaces the service with both pools and active colour,
// through base, and returns the new revision.
func putColour(base, active string, ttl int) (uint64, error) {
	r, err := CallE("PUT", base+"/v1/services/"+svcName, map[string]any{
		"ttl":    ttl,
		"active": active,
		"blue":   map[string]any{"version": "1.0", "addresses": blueV4},
		"green":  map[string]any{"version": "2.0", "addresses": append(append([]string(nil), greenV4...), greenV6...)},
	})
	if err != nil {
		return 0, err
	}
	if r.Status != http.StatusOK && r.Status != http.StatusCreated {
		return 0, fmt.Errorf("%s", r)
	}
	m, err := decodeMutation(r.Body)
	if err != nil {
		return 0, err
	}
	if m.Service.Revision == 0 {
		return 0, fmt.Errorf("no revision in %s", r)
	}
	return m.Service.Revision, nil
}

// writer flips the service's active colour again and again through the
// nodes targets returns, recording every acknowledged revision.
type writer struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	commits []commitRec
	errs    int
	lastErr error
}

func startWriter(t testing.TB, targets func() []*Node, every time.Duration, limit time.Duration) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	end := time.Now().Add(limit)
	go func() {
		defer close(w.done)
		colours := []string{"green", "blue"}
		for i := 0; time.Now().Before(end); i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			ns := targets()
			if len(ns) == 0 {
				time.Sleep(every)
				continue
			}
			rev, err := putColour(ns[i%len(ns)].URL(), colours[i%2], 5)
			acked := time.Now()
			w.mu.Lock()
			if err != nil {
				w.errs++
				w.lastErr = err
			} else {
				w.commits = append(w.commits, commitRec{Rev: rev, Acked: acked})
			}
			w.mu.Unlock()
			time.Sleep(every)
		}
	}()
	t.Cleanup(func() { w.Stop() })
	return w
}

// Stop ends the writes and returns the acknowledged ones in order.
func (w *writer) Stop() []commitRec {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]commitRec(nil), w.commits...)
}

// Count is how many writes were acknowledged so far.
func (w *writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.commits)
}

// requiredRevision is the newest revision acknowledged at or before t (0
// when none): an answer asked at t+max-stale or later, not marked stale,
// must carry at least this one. commits are in acknowledgement order.
func requiredRevision(commits []commitRec, t time.Time) uint64 {
	var need uint64
	for _, c := range commits {
		if c.Acked.After(t) {
			break
		}
		need = max(need, c.Rev)
	}
	return need
}

// readyzStatus is n's /readyz as "code status", for messages and polls.
func readyzStatus(n *Node) string {
	code, status, err := n.Readyz()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d %s", code, status)
}
