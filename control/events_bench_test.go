package control

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkEventsAfterLatest reads the one record newest in a state of
// 100,000 services: what every waiting reader of the events feed does
// after each change.
func BenchmarkEventsAfterLatest(b *testing.B) {
	s := Empty()
	s, _ = s.Apply(Command{Op: OpZonePut, Name: "bench.test.", Zone: &ZoneSpec{
		Glue: map[string][]netip.Addr{"ns1.bench.test": {netip.MustParseAddr("127.0.0.1")}}}}, 1)
	pool := &Pool{Version: "1", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}
	index := uint64(1)
	for i := 0; i < 100000; i++ {
		index++
		var r Result
		s, r = s.Apply(Command{Op: OpServicePut, Name: fmt.Sprintf("svc%d.bench.test.", i), Time: time.Unix(int64(index), 0),
			Service: &ServiceSpec{Blue: pool}}, index)
		if r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if evs := s.Events(EventQuery{After: index - 1}); len(evs) != 1 {
			b.Fatalf("%d events", len(evs))
		}
	}
}
