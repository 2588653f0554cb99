package dnsserver

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bgdns/bgdns/control"
)

// Query statistics. Every UDP reader (and the TCP side, as one more) owns
// a readerStats: plain counters in fixed arrays, indexed by small integers,
// bumped with an uncontended atomic add and read by whoever asks for
// Stats, which sums them. A query answered from the fast-path cache bumps
// counters whose addresses its cache entry carries: no lock, no map, no
// allocation. Only the first query of a kind (the one that fills the
// entry, and every query the cache does not take) classifies the query:
// its zone, type, rcode, and the colour a live name gave.
//
// Cardinality is bounded: zones beyond maxStatZones count under the zone
// OtherLabel, services beyond MetricsServices (the first ones answered, or
// listed by a collector, since the process started) under the service
// OtherLabel; query types outside statQtypes count as "OTHER", and so do
// rcodes outside statRcodes.

// Labels of the aggregated series.
const (
	// NoZoneLabel is the zone of queries for names outside every zone
	// (REFUSED), of CHAOS queries and of those that did not parse.
	NoZoneLabel = "_none"
	// OtherLabel aggregates the zones and services past the bounds.
	OtherLabel = "_other"
)

// Bounds and sampling.
const (
	maxStatZones           = 256
	DefaultMetricsServices = 100
	// latencySample: one query in latencySample per reader is timed, so
	// that the fast path does not read the clock twice per query.
	latencySample = 16
)

// statQtypes are the query types counted by name; the others count as
// "OTHER" (the last index).
var statQtypes = []uint16{1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 46, 47, 48, 64, 65, 99, 252, 251, 255, 257}

// StatQtypeNames are the label values of statQtypes, then "OTHER".
var StatQtypeNames = []string{"A", "NS", "CNAME", "SOA", "PTR", "MX", "TXT", "AAAA", "SRV", "NAPTR",
	"DS", "RRSIG", "DNSKEY", "NSEC", "SVCB", "HTTPS", "SPF", "AXFR", "IXFR", "ANY", "CAA", "OTHER"}

// StatRcodeNames are the label values of the header rcodes 0-5 and 9,
// then "OTHER".
var StatRcodeNames = []string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "NOTAUTH", "OTHER"}

const (
	numQtypes = 22
	numRcodes = 8
)

// qtypeIndex maps a query type to its index in StatQtypeNames, built once.
var qtypeIndex = func() (t [258]uint8) {
	for i := range t {
		t[i] = numQtypes - 1
	}
	for i, q := range statQtypes {
		t[q] = uint8(i)
	}
	return t
}()

func qtypeSlot(q uint16) int {
	if int(q) < len(qtypeIndex) {
		return int(qtypeIndex[q])
	}
	return numQtypes - 1
}

func rcodeSlot(rc byte) int {
	switch {
	case rc <= 5:
		return int(rc)
	case rc == 9:
		return 6
	}
	return numRcodes - 1
}

// Colour indexes.
const (
	colourBlue  = 0
	colourGreen = 1
)

func colourSlot(c control.Colour) int {
	if c == control.Green {
		return colourGreen
	}
	return colourBlue
}

// zoneStats are one reader's counters of one zone.
type zoneStats struct {
	queries [numQtypes][numRcodes]atomic.Uint64
	answers [2]atomic.Uint64 // answers of live names by colour
}

// readerStats are one reader's counters.
type readerStats struct {
	tcp bool
	// zones by zone id; allocated on a reader's first query of the zone
	// (which is never a cache hit).
	zones [maxStatZones + 2]atomic.Pointer[zoneStats]
	// services: answers of live names by service id and colour.
	services []([2]atomic.Uint64)
	// latency: sampled request durations.
	lat     [len(LatencyBuckets) + 1]atomic.Uint64
	latSum  atomic.Uint64 // nanoseconds
	latTick uint32        // the reader's own: not atomic
}

// LatencyBuckets are the upper bounds (seconds) of the request duration
// histogram; the last bucket is +Inf.
var LatencyBuckets = [...]float64{5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 100e-3}

// latencyBounds are LatencyBuckets in nanoseconds.
var latencyBounds = func() (b [len(LatencyBuckets)]uint64) {
	for i, s := range LatencyBuckets {
		b[i] = uint64(s * 1e9)
	}
	return b
}()

func (r *readerStats) observe(d time.Duration) {
	ns := uint64(max(d, 0))
	i := 0
	for i < len(latencyBounds) && ns > latencyBounds[i] {
		i++
	}
	r.lat[i].Add(1)
	r.latSum.Add(ns)
}

// sample reports whether this query is one to time.
func (r *readerStats) sample() bool {
	r.latTick++
	return r.latTick%latencySample == 0
}

// statSlots are the counters one answer bumps: its query counter and, for
// an answer of a live name, its zone's and its service's colour counters.
type statSlots struct {
	query, zoneColour, svcColour *atomic.Uint64
}

func (s statSlots) count() {
	if s.query == nil {
		return
	}
	s.query.Add(1)
	if s.zoneColour != nil {
		s.zoneColour.Add(1)
		if s.svcColour != nil {
			s.svcColour.Add(1)
		}
	}
}

// statNames hands out the zone and service ids: a copy-on-write map, so
// that lookups take no lock.
type statNames struct {
	mu       sync.Mutex
	zones    atomic.Pointer[map[string]int]
	services atomic.Pointer[map[string]int]
	maxSvc   int
	// byID lists the names in id order (under mu).
	zoneNames, svcNames []string
}

func newStatNames(maxServices int) *statNames {
	if maxServices <= 0 {
		maxServices = DefaultMetricsServices
	}
	n := &statNames{maxSvc: maxServices}
	z, s := map[string]int{}, map[string]int{}
	n.zones.Store(&z)
	n.services.Store(&s)
	return n
}

// zoneID is the id of zone name: 0 is NoZoneLabel, 1 OtherLabel.
func (n *statNames) zoneID(name string) int {
	if name == "" {
		return 0
	}
	if id, ok := (*n.zones.Load())[name]; ok {
		return id
	}
	return n.assign(&n.zones, &n.zoneNames, name, maxStatZones, 2, 1)
}

// serviceID is the id of service name; past the bound, the id of
// OtherLabel (n.maxSvc).
func (n *statNames) serviceID(name string) int {
	if id, ok := (*n.services.Load())[name]; ok {
		return id
	}
	return n.assign(&n.services, &n.svcNames, name, n.maxSvc, 0, n.maxSvc)
}

func (n *statNames) assign(p *atomic.Pointer[map[string]int], names *[]string, name string, limit, first, other int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	cur := *p.Load()
	if id, ok := cur[name]; ok {
		return id
	}
	if len(cur) >= limit {
		return other
	}
	next := make(map[string]int, len(cur)+1)
	for k, v := range cur {
		next[k] = v
	}
	id := first + len(cur)
	next[name] = id
	*names = append(*names, name)
	p.Store(&next)
	return id
}

// snapshot returns the names by id.
func (n *statNames) snapshot() (zones, services []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	zones = append([]string{NoZoneLabel, OtherLabel}, n.zoneNames...)
	services = append(services, n.svcNames...)
	return zones, services
}

// statsHub is the server's set of readers' statistics.
type statsHub struct {
	names   *statNames
	mu      sync.Mutex
	readers []*readerStats
	tcp     *readerStats
}

func newStatsHub(maxServices int) *statsHub {
	h := &statsHub{names: newStatNames(maxServices)}
	h.tcp = h.newReader(true)
	return h
}

func (h *statsHub) newReader(tcp bool) *readerStats {
	r := &readerStats{tcp: tcp, services: make([][2]atomic.Uint64, h.names.maxSvc+1)}
	h.mu.Lock()
	h.readers = append(h.readers, r)
	h.mu.Unlock()
	return r
}

// classify finds the counters of the answer reply to raw (the query as
// received), from st. It allocates: it runs only on the handler's path.
func (h *statsHub) classify(r *readerStats, st *control.State, raw, reply []byte) statSlots {
	if len(reply) < headerLen {
		return statSlots{}
	}
	name, qtype, ok := questionOf(raw)
	var z *control.Zone
	if ok && st != nil {
		z = st.ZoneFor(name)
	}
	zid := 0
	if z != nil {
		zid = h.names.zoneID(z.Name)
	}
	zs := r.zones[zid].Load()
	if zs == nil {
		// The TCP side is shared by its connections: the first one wins.
		r.zones[zid].CompareAndSwap(nil, new(zoneStats))
		zs = r.zones[zid].Load()
	}
	slots := statSlots{query: &zs.queries[qtypeSlot(qtype)][rcodeSlot(reply[3]&0x0f)]}
	if z == nil || reply[3]&0x0f != 0 || reply[6]|reply[7] == 0 {
		return slots // not a positive answer about our zones
	}
	if svc := st.Service(name); svc != nil && svc.Zone == z.Name {
		c := colourSlot(svc.Active)
		slots.zoneColour = &zs.answers[c]
		slots.svcColour = &r.services[h.names.serviceID(svc.Name)][c]
	}
	return slots
}

// questionOf reads the first question of a query: its name in canonical
// text (lower case, trailing dot) and type. Compressed names are not read.
func questionOf(raw []byte) (name string, qtype uint16, ok bool) {
	if len(raw) < headerLen+5 || raw[4]|raw[5] == 0 {
		return "", 0, false
	}
	var b strings.Builder
	i := headerLen
	for {
		if i >= len(raw) {
			return "", 0, false
		}
		l := int(raw[i])
		if l == 0 {
			i++
			break
		}
		if l >= 64 || i+1+l > len(raw) {
			return "", 0, false
		}
		for _, ch := range raw[i+1 : i+1+l] {
			if ch >= 'A' && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b.WriteByte(ch)
		}
		b.WriteByte('.')
		i += 1 + l
	}
	if i+2 > len(raw) {
		return "", 0, false
	}
	if b.Len() == 0 {
		b.WriteByte('.')
	}
	return b.String(), uint16(raw[i])<<8 | uint16(raw[i+1]), true
}

// Stats are the server's counters since it was created, summed over its
// readers.
type Stats struct {
	// Queries are the answered queries by zone, type, rcode and transport.
	Queries []QueryCount
	// ZoneAnswers are the answers of live names by zone and colour.
	ZoneAnswers []ColourCount
	// ServiceAnswers are the answers of live names by service and colour
	// (the first MetricsServices services, then OtherLabel).
	ServiceAnswers []ColourCount
	// Latency is the histogram of the sampled request durations:
	// Latency[i] counts those up to LatencyBuckets[i] (not cumulative),
	// the last one those above.
	Latency    [len(LatencyBuckets) + 1]uint64
	LatencySum time.Duration
}

// QueryCount is one series of Stats.Queries.
type QueryCount struct {
	Zone, Qtype, Rcode, Transport string
	N                             uint64
}

// ColourCount is one series of answers by colour; Name is a zone or a
// service.
type ColourCount struct {
	Name   string
	Colour control.Colour
	N      uint64
}

// Stats sums the readers' counters. Names are canonical (trailing dot)
// except the aggregates NoZoneLabel and OtherLabel; only series that
// counted something are listed.
func (s *Server) Stats() Stats {
	h := s.stats
	zoneNames, svcNames := h.names.snapshot()
	h.mu.Lock()
	readers := append([]*readerStats(nil), h.readers...)
	h.mu.Unlock()

	type qkey struct{ zone, qt, rc int }
	var out Stats
	for _, transport := range []bool{false, true} {
		q := map[qkey]uint64{}
		for _, r := range readers {
			if r.tcp != transport {
				continue
			}
			for zid := range r.zones {
				zs := r.zones[zid].Load()
				if zs == nil {
					continue
				}
				for qt := range zs.queries {
					for rc := range zs.queries[qt] {
						if n := zs.queries[qt][rc].Load(); n > 0 {
							q[qkey{zid, qt, rc}] += n
						}
					}
				}
			}
		}
		tname := "udp"
		if transport {
			tname = "tcp"
		}
		for k, n := range q {
			if k.zone < len(zoneNames) {
				out.Queries = append(out.Queries, QueryCount{Zone: zoneNames[k.zone], Qtype: StatQtypeNames[k.qt],
					Rcode: StatRcodeNames[k.rc], Transport: tname, N: n})
			}
		}
	}
	colours := [2]control.Colour{control.Blue, control.Green}
	var zoneAns = map[[2]int]uint64{}
	var svcAns = map[[2]int]uint64{}
	for _, r := range readers {
		for zid := range r.zones {
			if zs := r.zones[zid].Load(); zs != nil {
				for c := range zs.answers {
					zoneAns[[2]int{zid, c}] += zs.answers[c].Load()
				}
			}
		}
		for sid := range r.services {
			for c := range r.services[sid] {
				svcAns[[2]int{sid, c}] += r.services[sid][c].Load()
			}
		}
		for i := range r.lat {
			out.Latency[i] += r.lat[i].Load()
		}
		out.LatencySum += time.Duration(r.latSum.Load())
	}
	for k, n := range zoneAns {
		if n > 0 && k[0] < len(zoneNames) {
			out.ZoneAnswers = append(out.ZoneAnswers, ColourCount{Name: zoneNames[k[0]], Colour: colours[k[1]], N: n})
		}
	}
	for k, n := range svcAns {
		if n == 0 {
			continue
		}
		name := OtherLabel
		if k[0] < len(svcNames) {
			name = svcNames[k[0]]
		}
		out.ServiceAnswers = append(out.ServiceAnswers, ColourCount{Name: name, Colour: colours[k[1]], N: n})
	}
	return out
}

// StatsService reports whether service name has (or now gets) a series of
// its own under the MetricsServices bound, so that a collector can keep
// its per-service gauges to the same services as the answer counters.
func (s *Server) StatsService(name string) bool {
	return s.stats.names.serviceID(name) != s.stats.names.maxSvc
}

// countTCP counts the reply to a query over TCP (nil: none, or a zone
// transfer, which is not counted) and times it.
func (s *Server) countTCP(raw, reply []byte, start time.Time) {
	if reply == nil {
		return
	}
	h := s.stats
	h.classify(h.tcp, s.src.State(), raw, reply).count()
	h.tcp.observe(time.Since(start))
}
