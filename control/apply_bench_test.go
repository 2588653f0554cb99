package control

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkApplyServicePut measures one service put with a request id
// against a state that already holds 100,000 services (what restoring a
// large installation replays, one log entry at a time).
func BenchmarkApplyServicePut(b *testing.B) {
	s := Empty()
	zone := Command{Op: OpZonePut, Name: "bench.test.", Zone: &ZoneSpec{
		Glue: map[string][]netip.Addr{"ns1.bench.test": {netip.MustParseAddr("127.0.0.1")}}}}
	s, r := s.Apply(zone, 1)
	if r.Err != nil {
		b.Fatal(r.Err)
	}
	pool := &Pool{Version: "1", Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}
	put := func(i int, index uint64) Command {
		return Command{Op: OpServicePut, Name: fmt.Sprintf("svc%d.bench.test.", i), Time: time.Unix(int64(index), 0),
			RequestID: fmt.Sprintf("req-%d", index), Service: &ServiceSpec{Blue: pool}}
	}
	index := uint64(1)
	for i := 0; i < 100000; i++ {
		index++
		if s, r = s.Apply(put(i, index), index); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		index++
		if s, r = s.Apply(put(i%100000, index), index); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}
