package control

import (
	"net/netip"
	"time"
)

// HealthCheck describes how the prober checks every address of both colours
// of a service. Zero fields take defaults in Normalize.
type HealthCheck struct {
	Type     string   `json:"type"` // "http" (2xx, or ExpectStatus, is up) or "tcp" (connect)
	Port     int      `json:"port"`
	Path     string   `json:"path,omitempty"` // http: request path, default "/"
	Host     string   `json:"host,omitempty"` // http: Host header, default the address
	Interval Duration `json:"interval"`       // time between probes of one address
	Timeout  Duration `json:"timeout"`        // per probe, below Interval
	Rise     int      `json:"rise"`           // successes in a row to be marked up
	Fall     int      `json:"fall"`           // failures in a row to be marked down
	// ExpectStatus, when non-zero, is the one HTTP status that counts as up.
	ExpectStatus int `json:"expect_status,omitempty"`
}

// Health check types.
const (
	CheckHTTP = "http"
	CheckTCP  = "tcp"
)

// HealthStatus is the committed health of one address.
type HealthStatus string

const (
	HealthUnknown HealthStatus = ""     // never probed since the check or pool was set
	HealthUp      HealthStatus = "up"   // rise successes in a row
	HealthDown    HealthStatus = "down" // fall failures in a row
)

// Name is the status as messages and the API spell it: "unknown" for
// HealthUnknown.
func (s HealthStatus) Name() string {
	if s == HealthUnknown {
		return "unknown"
	}
	return string(s)
}

// AddrHealth is the committed health of one address: its status, the
// leader's time of the transition and what the last probe said.
type AddrHealth struct {
	Status HealthStatus `json:"status"`
	Since  time.Time    `json:"since"`
	Detail string       `json:"detail,omitempty"`
}

// HealthChange is one address transition carried by an OpHealth command.
type HealthChange struct {
	Addr   netip.Addr   `json:"addr"`
	Status HealthStatus `json:"status"`
	Detail string       `json:"detail,omitempty"`
}

// HealthSpec is the body of an OpHealth command: transitions of addresses
// of one service, after rise/fall hysteresis.
type HealthSpec struct {
	Changes []HealthChange `json:"changes"`
}

// HealthCounts is how many addresses of one colour are healthy.
type HealthCounts struct {
	Healthy int `json:"healthy"`
	Down    int `json:"down"`
	Unknown int `json:"unknown"`
	Total   int `json:"total"`
}

// HasHealthCheck reports whether the service's addresses are probed.
func (s *Service) HasHealthCheck() bool { return s.HealthCheck != nil }

// AddrStatus returns the committed health of address a.
func (s *Service) AddrStatus(a netip.Addr) AddrHealth {
	return s.Health[a]
}

// HealthOf counts the healthy addresses of colour c. Without a health
// check every address counts as healthy.
func (s *Service) HealthOf(c Colour) HealthCounts {
	p := s.Pool(c)
	if p == nil {
		return HealthCounts{}
	}
	n := HealthCounts{Total: len(p.Addresses)}
	if s.HealthCheck == nil {
		n.Healthy = n.Total
		return n
	}
	for _, a := range p.Addresses {
		switch s.Health[a].Status {
		case HealthUp:
			n.Healthy++
		case HealthDown:
			n.Down++
		default:
			n.Unknown++
		}
	}
	return n
}

// answerAddrs applies the health rules to pool p: without a health check,
// every address. With one, the addresses not marked down (an address not
// yet probed is served); when every address is down, all of them (fail
// open) or none when the service is fail_closed.
func (s *Service) answerAddrs(p *Pool) []netip.Addr {
	if s.HealthCheck == nil || len(s.Health) == 0 {
		return p.Addresses
	}
	down := 0
	for _, a := range p.Addresses {
		if s.Health[a].Status == HealthDown {
			down++
		}
	}
	switch {
	case down == 0:
		return p.Addresses
	case down == len(p.Addresses):
		if s.FailClosed {
			return nil
		}
		return p.Addresses
	}
	out := make([]netip.Addr, 0, len(p.Addresses)-down)
	for _, a := range p.Addresses {
		if s.Health[a].Status != HealthDown {
			out = append(out, a)
		}
	}
	return out
}

// healthFor returns the part of health that still applies to pools blue and
// green: entries of addresses in neither are dropped. It returns nil when
// nothing is left.
func healthFor(health map[netip.Addr]AddrHealth, pools ...*Pool) map[netip.Addr]AddrHealth {
	if len(health) == 0 {
		return nil
	}
	out := map[netip.Addr]AddrHealth{}
	for _, p := range pools {
		if p == nil {
			continue
		}
		for _, a := range p.Addresses {
			if h, ok := health[a]; ok {
				out[a] = h
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sameProbe reports whether two health checks probe the same thing, so
// the committed results of one still hold for the other.
func sameProbe(a, b *HealthCheck) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Type == b.Type && a.Port == b.Port && a.Path == b.Path &&
		a.Host == b.Host && a.ExpectStatus == b.ExpectStatus
}

// RangeServices calls f for every service, in no particular order, until f
// returns false: a scan without the sort of Services.
func (s *State) RangeServices(f func(*Service) bool) {
	s.services.Range(func(_ string, v *Service) bool { return f(v) })
}
