package dnsserver

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"
)

// rrlSlots is the size of the rate limiter's table. Prefixes that hash to
// the same slot share a budget, which can only make limiting stricter.
const rrlSlots = 1 << 16

type rrlAction int

const (
	rrlAllow rrlAction = iota
	rrlDrop
	rrlSlip // send an empty reply with TC=1
)

// rrl limits UDP responses per client prefix (/24 for IPv4, /56 for IPv6)
// to rate per second, like NSD's rrl-ratelimit. Each slot holds the current
// second and the count in it in one word, updated with compare-and-swap:
// no lock on the query path.
type rrl struct {
	rate  uint32
	slip  uint32
	slots [rrlSlots]atomic.Uint64
	over  atomic.Uint32 // responses over the limit, for slip
}

func newRRL(rate, slip int) *rrl {
	if rate <= 0 {
		return nil
	}
	return &rrl{rate: uint32(rate), slip: uint32(slip)}
}

// check counts one response to client at unix second now.
func (r *rrl) check(client netip.Addr, now int64) rrlAction {
	slot := &r.slots[prefixHash(client)&(rrlSlots-1)]
	sec := uint32(now)
	for {
		v := slot.Load()
		if uint32(v>>32) != sec {
			if slot.CompareAndSwap(v, uint64(sec)<<32|1) {
				return rrlAllow
			}
			continue
		}
		if uint32(v) >= r.rate {
			break
		}
		if slot.CompareAndSwap(v, v+1) {
			return rrlAllow
		}
	}
	if r.slip == 0 {
		return rrlDrop
	}
	if r.over.Add(1)%r.slip == 0 {
		return rrlSlip
	}
	return rrlDrop
}

// prefixHash hashes the client's /24 (IPv4) or /56 (IPv6) (FNV-1a).
func prefixHash(a netip.Addr) uint32 {
	a = a.Unmap()
	h := uint32(2166136261)
	mix := func(b byte) {
		h ^= uint32(b)
		h *= 16777619
	}
	if a.Is4() {
		b := a.As4()
		mix(4)
		mix(b[0])
		mix(b[1])
		mix(b[2])
		return h
	}
	b := a.As16()
	mix(6)
	for _, x := range b[:7] {
		mix(x)
	}
	return h
}

// rrlTick is how often the rate limiter's clock moves on: a second of the
// limiter may start up to this much late, which only shifts its windows.
const rrlTick = 50 * time.Millisecond

// rrlClock is the current unix second as the rate limiter counts it, kept
// by one goroutine, so that counting a response reads no clock: reading
// the time costs more than the rest of a fast-path answer.
type rrlClock struct{ sec atomic.Int64 }

// run keeps the clock until ctx ends.
func (c *rrlClock) run(ctx context.Context) {
	t := time.NewTicker(rrlTick)
	defer t.Stop()
	for {
		c.sec.Store(time.Now().Unix())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// rrlSecond is the unix second the rate limiter counts a response in: the
// test clock when set, else the limiter's clock once it runs (Start), else
// the time now.
func (s *Server) rrlSecond() int64 {
	if s.clock != nil {
		return s.clock().Unix()
	}
	if sec := s.rrlClock.sec.Load(); sec != 0 {
		return sec
	}
	return time.Now().Unix()
}
