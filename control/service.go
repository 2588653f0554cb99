package control

import (
	"net/netip"
	"time"
)

// Phase is the lifecycle state of a service: stable, deployed, validating
// or rolled_back.
type Phase string

const (
	PhaseStable     Phase = "stable"
	PhaseDeployed   Phase = "deployed"
	PhaseValidating Phase = "validating"
	PhaseRolledBack Phase = "rolled_back"
)

// Pool is one colour's deployment: a version and its addresses.
// Retired marks the old colour after complete: it keeps answering on its
// colour name, but is no longer offered as the preview and cannot be
// switched to until something is deployed onto it again.
type Pool struct {
	Version   string       `json:"version"`
	Addresses []netip.Addr `json:"addresses"`
	Retired   bool         `json:"retired,omitempty"`
}

// HasAddresses reports whether p is a usable pool.
func (p *Pool) HasAddresses() bool { return p != nil && len(p.Addresses) > 0 }

// Service is one blue-green service. A *Service is immutable once it is part
// of a State: changes build a new one.
type Service struct {
	Name     string `json:"name"` // canonical: lower case, trailing dot
	Zone     string `json:"zone"` // canonical name of the enclosing zone
	TTL      uint32 `json:"ttl"`
	Active   Colour `json:"active"`
	Previous Colour `json:"previous,omitempty"` // colour a rollback returns to
	State    Phase  `json:"state"`
	Revision uint64 `json:"revision"` // Raft index of the last change
	Blue     *Pool  `json:"blue,omitempty"`
	Green    *Pool  `json:"green,omitempty"`
	// NoTXT turns off the _bgdns TXT record for this service.
	NoTXT bool `json:"no_txt,omitempty"`
	// ChangedAt is the leader's time of the last change.
	ChangedAt time.Time `json:"changed_at"`

	// Health checks, validation and switch safety (health.go, validation.go,
	// safety.go). A service without a health check serves every address.
	HealthCheck       *HealthCheck `json:"health_check,omitempty"`
	Validation        *Validation  `json:"validation,omitempty"`
	MinHealthy        int          `json:"min_healthy,omitempty"`
	FailClosed        bool         `json:"fail_closed,omitempty"`
	MinSwitchInterval Duration     `json:"min_switch_interval,omitempty"`
	Frozen            bool         `json:"frozen,omitempty"`
	// Health is the committed health per address of both colours, changed
	// only by OpHealth (copy-on-write). A missing address is unknown.
	Health map[netip.Addr]AddrHealth `json:"health,omitempty"`
	// LastSwitchAt is the leader's time of the last switch or rollback.
	LastSwitchAt time.Time `json:"last_switch_at,omitzero"`
	// ValidatingUntil is the end of the validation window of the last switch.
	ValidatingUntil time.Time `json:"validating_until,omitzero"`
	// ValidatedAt is when the validation window of the last switch passed.
	ValidatedAt time.Time `json:"validated_at,omitzero"`
	// SafeToRetireAt is when no resolver can still hold an answer with the
	// colour the last switch or rollback stopped serving (the idle colour);
	// zero while the switch awaits confirmation (retire.go).
	SafeToRetireAt time.Time `json:"safe_to_retire_at,omitzero"`
	// SwitchIndex is the Raft index of the last switch or rollback.
	SwitchIndex uint64 `json:"switch_index,omitempty"`
	// RetirePending is set from a switch until the leader confirmed that
	// every member applied it.
	RetirePending bool `json:"retire_pending,omitempty"`
	// RetireConfirmedAt is when the leader saw the last member apply it.
	RetireConfirmedAt time.Time `json:"retire_confirmed_at,omitzero"`
}

// Pool returns the pool of colour c (nil when it has none).
func (s *Service) Pool(c Colour) *Pool {
	switch c {
	case Blue:
		return s.Blue
	case Green:
		return s.Green
	}
	return nil
}

// Idle returns the colour that is not active.
func (s *Service) Idle() Colour { return s.Active.Other() }

// ActivePool returns the pool of the active colour.
func (s *Service) ActivePool() *Pool { return s.Pool(s.Active) }

// PreviewPool returns the idle colour's pool when it can be previewed: it
// exists, has addresses and is not retired. Otherwise nil.
func (s *Service) PreviewPool() *Pool {
	p := s.Pool(s.Idle())
	if !p.HasAddresses() || p.Retired {
		return nil
	}
	return p
}

// clone returns a shallow copy; pools are shared (they are immutable too).
func (s *Service) clone() *Service {
	c := *s
	return &c
}

// withPool returns a copy of s with colour c's pool replaced.
func (s *Service) withPool(c Colour, p *Pool) *Service {
	n := s.clone()
	if c == Blue {
		n.Blue = p
	} else {
		n.Green = p
	}
	return n
}

// AnswerAddrs returns the addresses to answer for colour c, or nil when the
// colour has no pool. With a health check, addresses committed as down are
// left out; when all are down, all are served (fail open) or none
// (fail_closed: NODATA). An address not yet probed is served. The DNS
// server calls this and nothing else, so serving rules live here.
func (s *Service) AnswerAddrs(c Colour) []netip.Addr {
	p := s.Pool(c)
	if p == nil {
		return nil
	}
	return s.answerAddrs(p)
}
