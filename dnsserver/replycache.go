package dnsserver

import (
	"bytes"
	"net/netip"
	"strings"
	"time"
	"weak"

	"github.com/bgdns/bgdns/control"
)

// The fast path answers the common UDP query (one IN question, no EDNS or
// a plain EDNS0 OPT, no TSIG) from wire-format replies the full handler
// built earlier for the same State, patching only the id and the
// question's case. Everything else, and every first query of a kind, goes
// through the full handler, whose reply is then remembered. So every fast
// answer is, by construction, what the full handler answers.
//
// Each UDP reader goroutine owns one fastCache: no locks and no allocation
// on a hit. An entry is tied to the State it was built from. When the
// State pointer changes, an entry whose reply is a positive answer about
// one service (answer records only) stays valid while that service is the
// same *control.Service (services are immutable: any change to one,
// health included, replaces it); every other entry is rebuilt. So a switch
// of one service leaves the cached answers of all the others in place. The
// cache is not used at all while the node is not serving. While the
// Source is stale its answers are marked (Extended DNS Error, TTLs
// capped): the fast path asks once per query whether it is, the handler
// answers under that, and an entry holds only under the staleness it was
// built with, so every change of it rebuilds the entries.
//
// With response rate limiting on, every response the fast path would send
// is counted first, hit or miss, exactly once: over the limit it is
// dropped, or slipped by the handler (never from the cache).

// Bounds of a fast-path cache.
const (
	maxFastEntries = 1 << 16 // entries before the cache starts over
	maxFastReply   = 512     // larger replies depend on the client's size
	maxFastKey     = 12 + 255 + 4 + 11
)

// Whether patching the question's case is enough for an entry: unknown
// until a query spells the name in another case.
const (
	caseUnknown = iota
	caseOK      // overwriting the question name gives the handler's reply
	caseExact   // the reply depends on the case: only the lower-case query hits
)

// fastEntry is one remembered reply.
type fastEntry struct {
	reply []byte // the full handler's reply to the lower-case query, id 0
	cases int
	// st is the State the reply is known to hold for. It is weak, so that
	// entries nobody asks for again do not keep old States alive.
	st weak.Pointer[control.State]
	// svc, when set, is the only part of the State the reply depends on:
	// the service named svcName, as it was.
	svc     *control.Service
	svcName string
	// stale is whether the reply was built as a stale answer (marked,
	// TTLs capped); it only holds while the Source says the same.
	stale bool
	// slots are the counters a hit bumps (stats.go).
	slots statSlots
}

// fastCache is one UDP reader's set of remembered replies.
type fastCache struct {
	s       *Server
	stats   *readerStats // this reader's counters (stats.go)
	entries map[string]*fastEntry
	cur     *control.State              // the State of the last query
	curW    weak.Pointer[control.State] // weak.Make(cur), made once per State
	stale   bool                        // whether the Source was stale at the last query
	key     [maxFastKey]byte
	out     [maxFastReply]byte
}

func (s *Server) newFastCache() *fastCache {
	return &fastCache{s: s, entries: make(map[string]*fastEntry), stats: s.stats.newReader(false)}
}

// reply answers raw (a UDP request from client) like s.handle does, and
// counts it; one query in latencySample is timed.
// The returned slice is only valid until the next call.
func (c *fastCache) reply(raw []byte, from netip.AddrPort) []byte {
	if !c.stats.sample() {
		return c.answer(raw, from)
	}
	start := time.Now()
	out := c.answer(raw, from)
	c.stats.observe(time.Since(start))
	return out
}

// counted counts reply, the handler's answer to raw, and returns the
// counters it bumped.
func (c *fastCache) counted(st *control.State, raw, reply []byte) statSlots {
	if reply == nil {
		return statSlots{}
	}
	sl := c.s.stats.classify(c.stats, st, raw, reply)
	sl.count()
	return sl
}

func (c *fastCache) answer(raw []byte, from netip.AddrPort) []byte {
	s := c.s
	qlen, ok := plainQuery(raw)
	if !ok || !s.src.Serving() {
		reply, _ := s.handle(raw, from, false)
		c.counted(s.src.State(), raw, reply)
		return reply
	}
	stale := s.isStale() // asked once: the handler answers under the same
	c.stale = stale
	act := rrlAllow // what the rate limiter says, asked once
	if s.rrl != nil {
		act = s.rrl.check(from.Addr(), s.rrlSecond())
		switch act {
		case rrlDrop:
			return nil
		case rrlSlip:
			reply, _ := s.respond(raw, from, false, act, stale)
			c.counted(s.src.State(), raw, reply)
			return reply
		}
	}
	st := s.src.State() // loaded before the handler's own load: see fill
	if st != c.cur {
		c.cur, c.curW = st, weak.Make(st)
	}
	key := c.key[:len(raw)-2]
	copy(key, raw[2:])
	lower(key[headerLen-2 : headerLen-2+qlen])
	name := raw[headerLen : headerLen+qlen]
	isLower := bytes.Equal(name, key[headerLen-2:headerLen-2+qlen])
	e := c.entries[string(key)]
	if e != nil && !c.current(e) {
		e = nil // rebuilt below
	}
	switch {
	case e == nil:
		reply, _ := s.respond(raw, from, false, act, stale)
		sl := c.counted(st, raw, reply)
		if isLower {
			c.fill(st, raw, key, qlen, reply, sl)
		}
		return reply
	case isLower || e.cases == caseOK:
		return c.serve(e, raw, name)
	case e.cases == caseExact:
		// This spelling has its own entry, keyed by the query as sent
		// (which has upper case, so it never collides with a lower-case key).
		exact := raw[2:]
		if x := c.entries[string(exact)]; x != nil && c.current(x) {
			return c.serve(x, raw, name)
		}
		reply, _ := s.respond(raw, from, false, act, stale)
		c.fill(st, raw, exact, qlen, reply, c.counted(st, raw, reply))
		return reply
	default:
		reply, _ := s.respond(raw, from, false, act, stale)
		c.counted(st, raw, reply)
		e.cases = c.checkCase(raw, from, qlen, e)
		return reply
	}
}

// serve builds the reply to raw from e: id and question name patched.
func (c *fastCache) serve(e *fastEntry, raw, name []byte) []byte {
	e.slots.count()
	out := c.out[:len(e.reply)]
	copy(out, e.reply)
	out[0], out[1] = raw[0], raw[1]
	copy(out[headerLen:], name)
	return out
}

// current reports whether e holds for the current State and staleness,
// moving it on to that State when the service it depends on is unchanged.
func (c *fastCache) current(e *fastEntry) bool {
	if e.stale != c.stale {
		return false // stale answers are marked: rebuilt at every change
	}
	if e.st == c.curW {
		return true
	}
	if e.svc == nil || c.cur.Service(e.svcName) != e.svc {
		return false
	}
	e.st = c.curW
	return true
}

// fill remembers reply (the handler's answer to raw) under key when it is
// of the kind the fast path may repeat. st was loaded before the handler
// ran, so a reply built from a newer State is at worst tied to the older
// one, and found stale at the next query under the newer one: the service
// it depends on is taken from st too.
func (c *fastCache) fill(st *control.State, raw, key []byte, qlen int, reply []byte, slots statSlots) {
	if len(reply) < headerLen+qlen || len(reply) > maxFastReply ||
		reply[0] != raw[0] || reply[1] != raw[1] || reply[3]&0x0f == 2 /* SERVFAIL */ {
		return
	}
	if !bytes.Equal(reply[headerLen:headerLen+qlen], raw[headerLen:headerLen+qlen]) {
		return // the reply does not echo the question where we patch it
	}
	if len(c.entries) >= maxFastEntries {
		clear(c.entries)
	}
	e := &fastEntry{reply: bytes.Clone(reply), st: c.curW, stale: c.stale, slots: slots}
	e.reply[0], e.reply[1] = 0, 0
	if positiveOnly(raw, reply) {
		if n, ok := presentation(raw[headerLen : headerLen+qlen]); ok {
			for _, cand := range []string{n, parentName(n)} {
				if svc := st.Service(cand); svc != nil {
					e.svc, e.svcName = svc, cand
					break
				}
			}
		}
	}
	c.entries[string(key)] = e
}

// positiveOnly reports whether reply is an authoritative NOERROR answer
// with answer records and nothing else (no authority section, and an
// additional section of only the OPT record the query had, if any).
func positiveOnly(raw, reply []byte) bool {
	return reply[2]&0x04 != 0 && reply[3]&0x0f == 0 &&
		reply[6]|reply[7] != 0 && reply[8]|reply[9] == 0 &&
		reply[10] == 0 && reply[11] == raw[11]
}

// presentation returns the wire-format name as canonical text (lower
// case, trailing dot), for names of letters, digits, '-' and '_' only.
func presentation(wire []byte) (string, bool) {
	var b []byte
	for i := 0; i < len(wire) && wire[i] != 0; {
		l := int(wire[i])
		if i+1+l > len(wire) {
			return "", false
		}
		for _, ch := range wire[i+1 : i+1+l] {
			switch {
			case ch >= 'A' && ch <= 'Z':
				ch += 'a' - 'A'
			case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '-', ch == '_':
			default:
				return "", false
			}
			b = append(b, ch)
		}
		b = append(b, '.')
		i += 1 + l
	}
	if len(b) == 0 {
		return "", false
	}
	return string(b), true
}

// parentName is n without its first label ("" when none is left).
func parentName(n string) string {
	i := strings.IndexByte(n, '.')
	if i < 0 || i == len(n)-1 {
		return ""
	}
	return n[i+1:]
}

// checkCase decides, the first time a name comes in another case, whether
// patching the question is all it takes: the handler's replies to the name
// with every letter's case flipped must equal the patched entry, and so
// must its reply to raw itself.
func (c *fastCache) checkCase(raw []byte, from netip.AddrPort, qlen int, e *fastEntry) int {
	matches := func(q []byte) bool {
		r, _ := c.s.respond(q, from, false, rrlAllow, e.stale) // not responses: not counted
		if len(r) != len(e.reply) {
			return false
		}
		p := bytes.Clone(e.reply)
		p[0], p[1] = q[0], q[1]
		copy(p[headerLen:], q[headerLen:headerLen+qlen])
		return bytes.Equal(p, r)
	}
	variant := bytes.Clone(raw)
	flipCase(variant[headerLen : headerLen+qlen])
	if matches(raw) && matches(variant) {
		return caseOK
	}
	return caseExact
}

// plainQuery reports whether raw is a query the fast path may answer: a
// standard query (QR=0, opcode 0) with exactly one question of class IN
// whose type is not a transfer or meta type, no answer or authority
// records, and either no additional record or one EDNS0 OPT (root owner,
// version 0, no options), with nothing after it. It returns the length of
// the question name (uncompressed, labels under 64 bytes).
func plainQuery(raw []byte) (qlen int, ok bool) {
	if len(raw) < headerLen+5 || len(raw) > maxFastKey+2 || raw[2]&0xf8 != 0 {
		return 0, false
	}
	if raw[4] != 0 || raw[5] != 1 || raw[6]|raw[7]|raw[8]|raw[9]|raw[10] != 0 || raw[11] > 1 {
		return 0, false
	}
	i := headerLen
	for {
		if i >= len(raw) {
			return 0, false
		}
		l := int(raw[i])
		if l == 0 {
			i++
			break
		}
		if l >= 64 {
			return 0, false // a compression pointer or an extended label type
		}
		i += 1 + l
	}
	qlen = i - headerLen
	if qlen > 255 || i+4 > len(raw) {
		return 0, false
	}
	qtype := uint16(raw[i])<<8 | uint16(raw[i+1])
	qclass := uint16(raw[i+2])<<8 | uint16(raw[i+3])
	if qclass != 1 || qtype == 0 || qtype == 41 || (qtype >= 249 && qtype <= 252) {
		return 0, false // OPT, TKEY, TSIG, IXFR, AXFR
	}
	i += 4
	if raw[11] == 0 {
		return qlen, i == len(raw)
	}
	// One OPT: root name, type 41, class = payload size, TTL = extended
	// rcode, version, flags; RDLENGTH 0.
	if len(raw)-i != 11 || raw[i] != 0 || raw[i+1] != 0 || raw[i+2] != 41 {
		return 0, false
	}
	if raw[i+5] != 0 || raw[i+6] != 0 || raw[i+9] != 0 || raw[i+10] != 0 {
		return 0, false
	}
	return qlen, true
}

// lower folds ASCII upper case in b to lower case.
func lower(b []byte) {
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + ('a' - 'A')
		}
	}
}

// flipCase swaps the case of every ASCII letter in b.
func flipCase(b []byte) {
	for i, ch := range b {
		switch {
		case ch >= 'A' && ch <= 'Z':
			b[i] = ch + ('a' - 'A')
		case ch >= 'a' && ch <= 'z':
			b[i] = ch - ('a' - 'A')
		}
	}
}
