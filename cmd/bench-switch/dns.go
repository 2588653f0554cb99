package main

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// answers reports whether the nameserver at addr answers qname A with
// exactly want.
func answers(c *dns.Client, addr, qname string, want netip.Addr) bool {
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeA)
	r, _, err := c.Exchange(m, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		return false
	}
	a, ok := r.Answer[0].(*dns.A)
	if !ok {
		return false
	}
	got, _ := netip.AddrFromSlice(a.A)
	return got.Unmap() == want
}

// waitAllAnswer polls every address until each answers want, and returns
// when the last one did (relative to start), or ctx's error.
func waitAllAnswer(ctx context.Context, start time.Time, addrs []string, qname string, want netip.Addr) (time.Duration, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		last time.Duration
		ferr error
	)
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
			for !answers(c, addr, qname, want) {
				select {
				case <-ctx.Done():
					mu.Lock()
					ferr = ctx.Err()
					mu.Unlock()
					return
				case <-time.After(200 * time.Microsecond):
				}
			}
			d := time.Since(start)
			mu.Lock()
			last = max(last, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return last, ferr
}
