package control

import (
	"container/heap"
	"sort"
	"strings"
)

// Kinds of event: what an event's record is about.
const (
	EventService = "service"
	EventZone    = "zone"
	EventMember  = "member"
	EventToken   = "token"
)

// Event is one record of the events feed: a record of a service's history
// or of the audit (zones, members, tokens), with what it is about.
type Event struct {
	// Kind is EventService, EventZone, EventMember or EventToken.
	Kind string
	// Name is the canonical service or zone name, the node id or the
	// token id.
	Name   string
	Record Record
}

// EventQuery selects events.
type EventQuery struct {
	// After: only records with an index above it.
	After uint64
	// Limit bounds how many are returned (<= 0: MaxHistory).
	Limit int
	// Newest returns the newest Limit records rather than the oldest
	// (a first read that shows the tail; later reads page forward).
	Newest bool
	// Service, when set (canonical), keeps only that service's records.
	Service string
	// Keep, when set, keeps only the events it accepts (scope).
	Keep func(Event) bool
}

// Events returns the records of every service history and of the audit
// that q selects, in index order (newest last). Records of deleted
// services are kept in their history and still listed.
func (s *State) Events(q EventQuery) []Event {
	if q.Limit <= 0 {
		q.Limit = MaxHistory
	}
	if s.index <= q.After {
		return nil
	}
	sel := &eventHeap{newest: q.Newest, limit: q.Limit}
	keep := func(e Event) bool { return q.Keep == nil || q.Keep(e) }
	switch {
	case q.Service == "" && s.recentCovers(q.After):
		sel.walkRecent(s.recent, q.After, keep)
	case q.Service != "":
		h, _ := s.history.Get(q.Service)
		sel.walk(h, q.After, func(r Record) Event { return Event{Kind: EventService, Name: q.Service, Record: r} }, keep)
	default:
		s.history.Range(func(name string, h *history) bool {
			sel.walk(h, q.After, func(r Record) Event { return Event{Kind: EventService, Name: name, Record: r} }, keep)
			return true
		})
		sel.walk(s.audit, q.After, func(r Record) Event { return Event{Kind: AuditKind(r.Action), Name: r.Target, Record: r} }, keep)
	}
	out := sel.items
	sort.Slice(out, func(i, j int) bool {
		if out[i].Record.Index != out[j].Record.Index {
			return out[i].Record.Index < out[j].Record.Index
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// AuditKind is the kind of event an audit record of op is.
func AuditKind(op Op) string {
	switch {
	case strings.HasPrefix(string(op), "member."):
		return EventMember
	case strings.HasPrefix(string(op), "token."), op == OpACLBootstrap:
		return EventToken
	}
	return EventZone
}

// eventHeap keeps the limit oldest (or, with newest, the limit newest)
// events offered: a heap whose root is the one to drop first.
type eventHeap struct {
	items  []Event
	newest bool
	limit  int
}

func (h *eventHeap) Len() int { return len(h.items) }
func (h *eventHeap) Less(i, j int) bool {
	if h.newest {
		return h.items[i].Record.Index < h.items[j].Record.Index
	}
	return h.items[i].Record.Index > h.items[j].Record.Index
}
func (h *eventHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *eventHeap) Push(x any)    { h.items = append(h.items, x.(Event)) }
func (h *eventHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}

// walk offers the records of hist above after, newest first.
func (h *eventHeap) walk(hist *history, after uint64, mk func(Record) Event, keep func(Event) bool) {
	for ; hist != nil && hist.rec.Index > after; hist = hist.next {
		if h.full() && !h.newer(hist.rec.Index) {
			if h.newest {
				return // every older record of this list is older still
			}
			continue
		}
		if !h.offer(mk(hist.rec), keep) {
			return
		}
	}
}

func (h *eventHeap) full() bool { return len(h.items) == h.limit }

// newer reports whether a record at idx would enter a full heap.
func (h *eventHeap) newer(idx uint64) bool {
	root := h.items[0].Record.Index
	if h.newest {
		return idx > root
	}
	return idx < root
}

// offer adds e (offered newest first) when keep accepts it and it enters
// the heap; false means no older event of the same list can enter.
func (h *eventHeap) offer(e Event, keep func(Event) bool) bool {
	if h.full() && !h.newer(e.Record.Index) {
		return !h.newest
	}
	if !keep(e) {
		return true
	}
	if h.full() {
		h.items[0] = e
		heap.Fix(h, 0)
	} else {
		heap.Push(h, e)
	}
	return true
}
