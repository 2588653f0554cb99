package control

// RecentEvents is how many of the newest records, of every service and
// of the audit, a State also keeps in one list, newest first: a reader of
// the events feed then finds what is new after an index in the few
// records above it, without walking the history of every service.
const RecentEvents = 4096

// recentList is an immutable list of events, newest first. It holds every
// record above State.recentFrom: all of them since the empty state, those
// since a snapshot restored (which does not carry the list), or those
// kept after trimming.
type recentList struct {
	ev   Event
	next *recentList
	n    int
}

// pushRecent adds e, the newest record; once twice RecentEvents are held
// the list is trimmed to RecentEvents in one copy (constant cost per
// record).
func (s *State) pushRecent(e Event) {
	n := 1
	if s.recent != nil {
		n = s.recent.n + 1
	}
	s.recent = &recentList{ev: e, next: s.recent, n: n}
	if n <= 2*RecentEvents {
		return
	}
	keep := make([]Event, 0, RecentEvents)
	l := s.recent
	for ; l != nil && len(keep) < RecentEvents; l = l.next {
		keep = append(keep, l.ev)
	}
	if l != nil {
		s.recentFrom = l.ev.Record.Index // the newest one dropped
	}
	var nl *recentList
	for i := len(keep) - 1; i >= 0; i-- {
		m := 1
		if nl != nil {
			m = nl.n + 1
		}
		nl = &recentList{ev: keep[i], next: nl, n: m}
	}
	s.recent = nl
}

// recentCovers reports whether the recent list holds every record above
// after.
func (s *State) recentCovers(after uint64) bool { return after >= s.recentFrom }

// walkRecent offers the recent events above after, newest first.
func (h *eventHeap) walkRecent(l *recentList, after uint64, keep func(Event) bool) {
	for ; l != nil && l.ev.Record.Index > after; l = l.next {
		if !h.offer(l.ev, keep) {
			return
		}
	}
}
