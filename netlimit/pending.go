package netlimit

import (
	"net"
	"net/netip"
	"sync"
)

// pendingSet bounds the connections still in their TLS handshake, apart
// from the connections that proved themselves: a connection that has not
// yet sent a valid handshake is the cheapest thing to hold open, so those
// get a small budget of their own. When it is full, a new connection
// takes the place of the oldest pending one of the source that holds the
// most, unless its own source is that one (then the new connection is
// refused): idle connections from a few sources, each within its
// per-source share, can then no longer keep everyone else's handshakes
// out; a source needs a share of the budget larger than any other's to
// lose a connection to another.
type pendingSet struct {
	max int

	mu     sync.Mutex
	n      int
	bySrc  map[netip.Addr][]*pendingConn
	evicts int
}

type pendingConn struct {
	c    net.Conn
	src  netip.Addr
	done bool // finished (or was evicted); not in bySrc any more
}

func newPendingSet(max int) *pendingSet {
	return &pendingSet{max: max, bySrc: map[netip.Addr][]*pendingConn{}}
}

// add counts c as pending. It returns the entry to pass to done, or nil
// when c is refused. A connection evicted to make room is closed here;
// its handshake then fails.
func (p *pendingSet) add(c net.Conn, src netip.Addr) *pendingConn {
	p.mu.Lock()
	var victim net.Conn
	if p.n >= p.max {
		heavy, most := netip.Addr{}, 0
		for s, l := range p.bySrc {
			if len(l) > most {
				heavy, most = s, len(l)
			}
		}
		if len(p.bySrc[src]) >= most {
			p.mu.Unlock()
			return nil
		}
		old := p.bySrc[heavy][0]
		p.removeLocked(old)
		p.evicts++
		victim = old.c
	}
	e := &pendingConn{c: c, src: src}
	p.bySrc[src] = append(p.bySrc[src], e)
	p.n++
	p.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
	return e
}

// done ends e's pending time (its handshake finished or failed). It
// reports false when e had been evicted meanwhile.
func (p *pendingSet) done(e *pendingConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.done {
		return false
	}
	p.removeLocked(e)
	return true
}

func (p *pendingSet) removeLocked(e *pendingConn) {
	e.done = true
	l := p.bySrc[e.src]
	for i, x := range l {
		if x == e {
			l = append(l[:i], l[i+1:]...)
			break
		}
	}
	if len(l) == 0 {
		delete(p.bySrc, e.src)
	} else {
		p.bySrc[e.src] = l
	}
	p.n--
}

// count is the number of pending connections and of evictions so far.
func (p *pendingSet) count() (pending, evictions int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, p.evicts
}
