package prober

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/dnsserver"
)

// Serving makes a fakeNode a dnsserver.Source.
func (n fakeNode) Serving() bool { return true }

// startDNS serves the fake cluster's state over UDP on loopback.
func startDNS(t *testing.T, src dnsserver.Source) string {
	t.Helper()
	s := dnsserver.New(dnsserver.Config{Addr: "127.0.0.1:0", Logger: testLog()}, src)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s.Addr()
}

// queryA asks server for name's A records and returns the rcode and the
// addresses answered.
func queryA(t *testing.T, server, name string) (int, []string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return r.Rcode, out
}

func answers(t *testing.T, server, name string, want ...string) func() bool {
	return func() bool {
		rcode, got := queryA(t, server, name)
		if rcode != dns.RcodeSuccess || len(got) != len(want) {
			return false
		}
		for i := range got {
			if got[i] != want[i] {
				return false
			}
		}
		return true
	}
}

// The automatic rollback and the fail-open / fail-closed rules, as a
// resolver sees them over DNS.
func TestDNSSeesRollbackAndFailClosed(t *testing.T) {
	port, bk := newBackends(t, true, "127.0.0.1", "127.0.0.2")
	c := newFakeCluster(t, "n1")
	spec := func(failClosed bool) *control.ServiceSpec {
		return &control.ServiceSpec{
			TTL: 5, HealthCheck: fastHTTPCheck(port), FailClosed: failClosed,
			Validation: &control.Validation{Window: control.Duration(time.Minute), AutoRollback: true},
			Blue:       &control.Pool{Version: "1.0", Addresses: addrs("127.0.0.1")},
			Green:      &control.Pool{Version: "2.0", Addresses: addrs("127.0.0.2")},
		}
	}
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: spec(false)})
	startProber(t, c.node("n1"))
	server := startDNS(t, c.node("n1"))

	eventually(t, "green up", func() bool { return healthOf(c, control.Green).Healthy == 1 })
	c.must(t, control.Command{Op: control.OpSwitch, Name: svcName})
	eventually(t, "the live name answers green", answers(t, server, svcName, "127.0.0.2"))

	bk[1].status.Store(500)
	eventually(t, "the live name answers blue again", answers(t, server, svcName, "127.0.0.1"))
	if svc := c.service(); svc.State != control.PhaseRolledBack || len(historyOf(c, control.OpRollback)) != 1 {
		t.Fatalf("after the rollback: %+v", svc)
	}
	// every green address is down: fail open serves them all
	eventually(t, "fail open", answers(t, server, "green."+svcName, "127.0.0.2"))

	// fail closed: NODATA (NOERROR, no answer, the SOA in authority)
	c.must(t, control.Command{Op: control.OpServicePut, Name: svcName, Service: spec(true)})
	eventually(t, "fail closed", func() bool {
		rcode, got := queryA(t, server, "green."+svcName)
		return rcode == dns.RcodeSuccess && len(got) == 0
	})
	m := new(dns.Msg)
	m.SetQuestion("green."+svcName, dns.TypeA)
	r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(m, server)
	if err != nil || len(r.Ns) == 0 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
		t.Fatalf("NODATA without SOA: %v %v", err, r)
	}
	// green recovers: answered again
	bk[1].status.Store(200)
	eventually(t, "green back", answers(t, server, "green."+svcName, "127.0.0.2"))
}
