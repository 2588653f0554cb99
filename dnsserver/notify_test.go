package dnsserver

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/miekg/dns"
)

// fakeSecondary receives NOTIFY messages on a UDP socket and hands them
// to the test; it answers every one except the first ignore ones.
type fakeSecondary struct {
	pc     net.PacketConn
	got    chan *dns.Msg
	ignore int
	tsigOK atomic.Bool
}

func newFakeSecondary(t *testing.T, ignore int) *fakeSecondary {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSecondary{pc: pc, got: make(chan *dns.Msg, 16), ignore: ignore}
	t.Cleanup(func() { pc.Close() })
	go f.run()
	return f
}

func (f *fakeSecondary) addr() string { return f.pc.LocalAddr().String() }

func (f *fakeSecondary) run() {
	buf := make([]byte, 4096)
	n := 0
	for {
		l, from, err := f.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:l]) != nil {
			continue
		}
		signed := m.IsTsig() != nil
		f.tsigOK.Store(signed && dns.TsigVerify(buf[:l], testKeySecret, "", false) == nil)
		f.got <- m
		n++
		if n <= f.ignore {
			continue
		}
		r := new(dns.Msg)
		r.SetReply(m)
		r.Authoritative = true
		if signed {
			r.SetTsig(testKeyName, dns.HmacSHA256, 300, time.Now().Unix())
			b, _, err := dns.TsigGenerate(r, testKeySecret, m.IsTsig().MAC, false)
			if err != nil {
				continue
			}
			_, _ = f.pc.WriteTo(b, from)
			continue
		}
		b, _ := r.Pack()
		_, _ = f.pc.WriteTo(b, from)
	}
}

func (f *fakeSecondary) next(t *testing.T) *dns.Msg {
	t.Helper()
	select {
	case m := <-f.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no NOTIFY arrived")
		return nil
	}
}

func notifiedSerial(t *testing.T, m *dns.Msg) uint32 {
	t.Helper()
	if m.Opcode != dns.OpcodeNotify || !m.Authoritative || len(m.Question) != 1 ||
		m.Question[0].Name != testZone || m.Question[0].Qtype != dns.TypeSOA {
		t.Fatalf("not a NOTIFY for %s: %v", testZone, m)
	}
	if len(m.Answer) != 1 {
		t.Fatalf("NOTIFY without the SOA: %v", m)
	}
	return m.Answer[0].(*dns.SOA).Serial
}

func TestNotifyOnSerialChange(t *testing.T) {
	src := newTestSource(t)
	sec := newFakeSecondary(t, 0)
	s := startServer(t, Config{Notify: []string{sec.addr()}, XFRKeys: []string{testKey}}, src)

	src.apply(t, control.Command{Op: control.OpRollback, Name: "api." + testZone})
	s.StateChanged()
	m := sec.next(t)
	if got, want := notifiedSerial(t, m), src.State().Zone(testZone).Serial; got != want {
		t.Fatalf("notified serial %d, want %d", got, want)
	}
	if !sec.tsigOK.Load() {
		t.Fatal("NOTIFY not signed with the configured key")
	}
}

func TestNotifyRetriesUntilAcknowledged(t *testing.T) {
	src := newTestSource(t)
	sec := newFakeSecondary(t, 2)
	s := startServer(t, Config{Notify: []string{sec.addr()}, NotifyTimeout: 100 * time.Millisecond}, src)
	src.apply(t, control.Command{Op: control.OpRollback, Name: "api." + testZone})
	s.StateChanged()
	want := src.State().Zone(testZone).Serial
	for i := range 3 {
		if got := notifiedSerial(t, sec.next(t)); got != want {
			t.Fatalf("attempt %d: serial %d, want %d", i+1, got, want)
		}
	}
}

func TestNotifyOnlyWhenAllowed(t *testing.T) {
	src := newTestSource(t)
	sec := newFakeSecondary(t, 0)
	// The first decision is "not the leader", every later one "leader".
	var calls atomic.Int32
	asked := make(chan struct{}, 16)
	should := func() bool {
		n := calls.Add(1)
		asked <- struct{}{}
		return n > 1
	}
	s := startServer(t, Config{Notify: []string{sec.addr()}, ShouldNotify: should}, src)

	src.apply(t, control.Command{Op: control.OpRollback, Name: "api." + testZone})
	s.StateChanged()
	select {
	case <-asked:
	case <-time.After(10 * time.Second):
		t.Fatal("the change was never considered")
	}
	src.apply(t, control.Command{Op: control.OpComplete, Name: "api." + testZone})
	want := src.State().Zone(testZone).Serial
	s.StateChanged()
	if got := notifiedSerial(t, sec.next(t)); got != want {
		t.Fatalf("first NOTIFY carries serial %d, want %d (a change made while not leader was announced)", got, want)
	}
}

func TestStateChangedNeverBlocks(t *testing.T) {
	src := newTestSource(t)
	s := newTestServer(t, Config{Notify: []string{"127.0.0.1:9"}}, src) // not started
	for range 1000 {
		s.StateChanged()
	}
}
