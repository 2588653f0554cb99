package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/bgdns/bgdns/control"
)

// ServiceSafety holds a service's health check, validation and switch
// safety settings, as PUT takes them and GET shows them. Durations are Go
// duration strings ("1s", "5m").
type ServiceSafety struct {
	HealthCheck       *HealthCheck     `json:"health_check,omitempty"`
	Validation        *Validation      `json:"validation,omitempty"`
	MinHealthy        int              `json:"min_healthy,omitempty"`
	FailClosed        bool             `json:"fail_closed,omitempty"`
	MinSwitchInterval control.Duration `json:"min_switch_interval,omitempty"`
	Frozen            bool             `json:"frozen,omitempty"`
}

// HealthCheck is how every address of both colours is probed: type http
// (2xx, or expect_status, is up; optional Host header) or tcp (connect).
// Zero fields take defaults: interval 1s, timeout half of it (at most 1s),
// rise and fall 2, path "/".
type HealthCheck struct {
	Type         string           `json:"type"`
	Port         int              `json:"port"`
	Path         string           `json:"path,omitempty"`
	Host         string           `json:"host,omitempty"`
	Interval     control.Duration `json:"interval,omitempty"`
	Timeout      control.Duration `json:"timeout,omitempty"`
	Rise         int              `json:"rise,omitempty"`
	Fall         int              `json:"fall,omitempty"`
	ExpectStatus int              `json:"expect_status,omitempty"`
}

// Validation is the window after a switch in which a failing new colour
// is rolled back by bgdns (with auto_rollback).
type Validation struct {
	Window       control.Duration `json:"window"`
	AutoRollback bool             `json:"auto_rollback"`
}

// ServiceStatus is what a service shows about its health and its last
// switch; read-only.
type ServiceStatus struct {
	// Health counts and lists the probed addresses per colour, when the
	// service has a health check.
	Health          *HealthView `json:"health,omitempty"`
	LastSwitchAt    time.Time   `json:"last_switch_at,omitzero"`
	ValidatingUntil time.Time   `json:"validating_until,omitzero"`
	ValidatedAt     time.Time   `json:"validated_at,omitzero"`
	// SafeToRetireAt is when no resolver can still hold an answer with the
	// colour the last switch or rollback stopped serving.
	SafeToRetireAt time.Time `json:"safe_to_retire_at,omitzero"`
	// Retire says whether the colour the last switch stopped serving can be
	// torn down: safe once every member confirmed applying the switch and
	// its longest TTL has passed since.
	Retire *Retire `json:"retire,omitempty"`
}

// Retire is the retire watermark of a service's last switch.
type Retire struct {
	Safe bool `json:"safe"`
	// SwitchIndex is the index of the switch or rollback it is about.
	SwitchIndex uint64 `json:"switch_index"`
	// ConfirmedAt is when the leader saw the last member apply it.
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	// WaitingFor names the members not yet seen applying it (filled in
	// when a single service is read).
	WaitingFor []string `json:"waiting_for,omitempty"`
}

// ServiceStatusIn accepts the read-only status fields in a PUT body (so a
// GET can be edited and put back) and ignores them.
type ServiceStatusIn struct {
	Health          json.RawMessage `json:"health,omitempty"`
	LastSwitchAt    json.RawMessage `json:"last_switch_at,omitempty"`
	ValidatingUntil json.RawMessage `json:"validating_until,omitempty"`
	ValidatedAt     json.RawMessage `json:"validated_at,omitempty"`
	SafeToRetireAt  json.RawMessage `json:"safe_to_retire_at,omitempty"`
	Retire          json.RawMessage `json:"retire,omitempty"`
}

// HealthView is the committed health of both colours.
type HealthView struct {
	Blue  *ColourHealth `json:"blue,omitempty"`
	Green *ColourHealth `json:"green,omitempty"`
}

// ColourHealth counts the healthy addresses of one colour and lists each.
type ColourHealth struct {
	Healthy   int          `json:"healthy"`
	Down      int          `json:"down"`
	Unknown   int          `json:"unknown"`
	Total     int          `json:"total"`
	Addresses []AddrHealth `json:"addresses"`
}

// AddrHealth is one address's committed health: up, down or unknown (not
// yet probed), since when, and what the probe said.
type AddrHealth struct {
	Address string    `json:"address"`
	Status  string    `json:"status"`
	Since   time.Time `json:"since,omitzero"`
	Detail  string    `json:"detail,omitempty"`
}

func safetyOf(s *control.Service) ServiceSafety {
	out := ServiceSafety{
		MinHealthy: s.MinHealthy, FailClosed: s.FailClosed,
		MinSwitchInterval: s.MinSwitchInterval, Frozen: s.Frozen,
	}
	if h := s.HealthCheck; h != nil {
		out.HealthCheck = &HealthCheck{Type: h.Type, Port: h.Port, Path: h.Path, Host: h.Host,
			Interval: h.Interval, Timeout: h.Timeout, Rise: h.Rise, Fall: h.Fall, ExpectStatus: h.ExpectStatus}
	}
	if v := s.Validation; v != nil {
		out.Validation = &Validation{Window: v.Window, AutoRollback: v.AutoRollback}
	}
	return out
}

func statusOf(s *control.Service) ServiceStatus {
	out := ServiceStatus{
		LastSwitchAt: s.LastSwitchAt, ValidatingUntil: s.ValidatingUntil,
		ValidatedAt: s.ValidatedAt, SafeToRetireAt: s.SafeToRetireAt,
	}
	if s.HealthCheck != nil {
		out.Health = &HealthView{Blue: colourHealth(s, control.Blue), Green: colourHealth(s, control.Green)}
	}
	if idx, pending := s.PendingRetire(); idx != 0 || pending {
		out.Retire = &Retire{Safe: !pending && !s.SafeToRetireAt.IsZero(), SwitchIndex: idx, ConfirmedAt: s.RetireConfirmedAt}
	}
	return out
}

func colourHealth(s *control.Service, c control.Colour) *ColourHealth {
	p := s.Pool(c)
	if p == nil {
		return nil
	}
	n := s.HealthOf(c)
	out := &ColourHealth{Healthy: n.Healthy, Down: n.Down, Unknown: n.Unknown, Total: n.Total,
		Addresses: make([]AddrHealth, len(p.Addresses))}
	for i, a := range p.Addresses {
		h := s.AddrStatus(a)
		out.Addresses[i] = AddrHealth{Address: a.String(), Status: h.Status.Name(), Since: h.Since, Detail: h.Detail}
	}
	return out
}

// applyTo copies the safety settings of a PUT body onto spec; control
// validates them.
func (in ServiceSafety) applyTo(spec *control.ServiceSpec) {
	if h := in.HealthCheck; h != nil {
		spec.HealthCheck = &control.HealthCheck{Type: h.Type, Port: h.Port, Path: h.Path, Host: h.Host,
			Interval: h.Interval, Timeout: h.Timeout, Rise: h.Rise, Fall: h.Fall, ExpectStatus: h.ExpectStatus}
	}
	if v := in.Validation; v != nil {
		spec.Validation = &control.Validation{Window: v.Window, AutoRollback: v.AutoRollback}
	}
	spec.MinHealthy = in.MinHealthy
	spec.FailClosed = in.FailClosed
	spec.MinSwitchInterval = in.MinSwitchInterval
	spec.Frozen = in.Frozen
}

// retireWaitTimeout bounds the reads of the members' applied index that
// name the nodes a switch still waits for.
const retireWaitTimeout = 1500 * time.Millisecond

// withWaiting fills in, for a service whose last switch awaits
// confirmation, the members not yet seen applying it.
func (h *handler) withWaiting(ctx context.Context, s *Service) *Service {
	if s == nil || s.Retire == nil || s.Retire.Safe || !s.Retire.ConfirmedAt.IsZero() {
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, retireWaitTimeout)
	defer cancel()
	s.Retire.WaitingFor = h.b.RetireWaiting(ctx, s.Retire.SwitchIndex)
	return s
}
