package control

import (
	"sort"
)

// State is everything bgdns knows: zones, services, their history and the
// remembered request ids. A *State is never modified once built; Apply
// returns a new one sharing what did not change.
type State struct {
	index    uint64
	zones    map[string]*Zone // few; copied whole on change
	services shardMap[*Service]
	history  shardMap[*history] // kept after a service is deleted
	requests *dedup
	acl      *acl     // tokens and whether ACL bootstrap happened
	audit    *history // zone, membership and token changes
	// members is the membership as the audit recorded it (node id -> Raft
	// address), so that a node that joins again unchanged adds no record.
	members map[string]string
	size    int64 // estimated encoded size (quota.go)
	// recent lists the newest records of every kind, holding every one
	// above recentFrom (events_recent.go); derived, not in snapshots.
	recent     *recentList
	recentFrom uint64
}

// Empty returns the state before any command.
func Empty() *State { return &State{zones: map[string]*Zone{}} }

// Index is the Raft index of the last command applied to this state.
func (s *State) Index() uint64 { return s.index }

// Zone returns the zone with canonical name n, or nil.
func (s *State) Zone(n string) *Zone { return s.zones[n] }

// ZoneFor returns the closest zone enclosing canonical name n, or nil.
func (s *State) ZoneFor(n string) *Zone {
	for ; n != ""; n = parentOf(n) {
		if z := s.zones[n]; z != nil {
			return z
		}
	}
	return nil
}

// Zones returns all zones sorted by name.
func (s *State) Zones() []*Zone {
	out := make([]*Zone, 0, len(s.zones))
	for _, z := range s.zones {
		out = append(out, z)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Service returns the service with canonical name n, or nil.
func (s *State) Service(n string) *Service {
	v, _ := s.services.Get(n)
	return v
}

// ServiceCount is the number of services.
func (s *State) ServiceCount() int { return s.services.Len() }

// Services returns all services sorted by name.
func (s *State) Services() []*Service {
	out := make([]*Service, 0, s.services.Len())
	s.services.Range(func(_ string, v *Service) bool {
		out = append(out, v)
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ServicesInZone returns the services of zone z sorted by name.
func (s *State) ServicesInZone(z string) []*Service {
	var out []*Service
	s.services.Range(func(_ string, v *Service) bool {
		if v.Zone == z {
			out = append(out, v)
		}
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// History returns up to limit audit records of service n, newest first,
// and whether any are known.
func (s *State) History(n string, limit int) ([]Record, bool) {
	h, ok := s.history.Get(n)
	if !ok {
		return nil, false
	}
	return h.records(limit), true
}

// with returns a shallow copy of s to modify before it is published.
func (s *State) with(index uint64) *State {
	c := *s
	c.index = index
	return &c
}

func (s *State) putZone(z *Zone) {
	zones := make(map[string]*Zone, len(s.zones)+1)
	for k, v := range s.zones {
		zones[k] = v
	}
	if old := zones[z.Name]; old != nil {
		s.size -= zoneSize(old)
	}
	zones[z.Name] = z
	s.size += zoneSize(z)
	s.zones = zones
}

func (s *State) deleteZone(n string) {
	zones := make(map[string]*Zone, len(s.zones))
	for k, v := range s.zones {
		if k != n {
			zones[k] = v
		} else {
			s.size -= zoneSize(v)
		}
	}
	s.zones = zones
}

func (s *State) record(name string, r Record) {
	h, _ := s.history.Get(name)
	nh := h.push(r)
	s.history = s.history.With(name, nh)
	s.size += nh.size() - h.size()
	s.pushRecent(Event{Kind: EventService, Name: name, Record: r})
}
