package faults

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A DNS server that answers the revisions of revs in turn (a negative one
// marked stale with EDE 3 and a TTL of ttl), to feed the observer.
func fakeNode(t *testing.T, revs []int, ttl uint32) *Node {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	i := 0
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		mu.Lock()
		rev := revs[i%len(revs)]
		i++
		mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(q)
		stale := rev < 0
		if stale {
			rev = -rev
		}
		m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
			Txt: []string{fmt.Sprintf("revision=%d active=blue", rev)}})
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(1232)
		if stale {
			opt.Option = append(opt.Option, &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeStaleAnswer})
		}
		m.Extra = append(m.Extra, opt)
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return &Node{ID: "n1", DNSAddr: pc.LocalAddr().String()}
}

func observe(t *testing.T, revs []int, ttl uint32) *Observer {
	n := fakeNode(t, revs, ttl)
	o := NewObserver(NewRecorder(time.Now()))
	o.stats[n.ID] = &DNSStats{Node: n.ID}
	o.last[n.ID] = map[string]uint64{}
	c := &dns.Client{Net: "udp", Timeout: time.Second}
	for range revs {
		o.poll(c, n, "svc0."+Zone)
	}
	return o
}

func TestObserverSeesDecreasesAndStaleAnswers(t *testing.T) {
	o := observe(t, []int{5, -7, 7, 9}, 30)
	if len(o.Decreases) != 0 || len(o.Answers) != 4 || !o.Answers[1].Stale || o.Answers[1].MaxTTL != 30 || o.Answers[3].Revision != 9 {
		t.Fatalf("increasing revisions: decreases %v, answers %+v", o.Decreases, o.Answers)
	}
	// a stale answer older than an answer before it is a decrease too
	o = observe(t, []int{5, 8, -6, 9}, 1)
	if len(o.Decreases) != 1 || o.Decreases[0].Revision != 6 {
		t.Fatalf("a stale answer went back: decreases %v", o.Decreases)
	}
	o = observe(t, []int{5, 8, 6}, 1)
	if len(o.Decreases) != 1 || o.Decreases[0].Revision != 6 {
		t.Fatalf("a fresh answer went back: decreases %v", o.Decreases)
	}
	if v := CheckStaleTTL(observe(t, []int{-5}, 30).Answers, rules); len(v) != 1 {
		t.Fatalf("a stale answer with TTL 30 passed the stale TTL check: %v", v)
	}
}
