package control

import (
	"strings"
	"time"
)

// Bounds of the health check, validation and safety fields.
const (
	MinCheckInterval     = 100 * time.Millisecond
	MaxCheckInterval     = time.Hour
	DefaultCheckInterval = time.Second
	DefaultRiseFall      = 2
	MaxRiseFall          = 10
	MaxCheckPathLen      = 1024
	MaxCheckHostLen      = 255
	MaxHealthDetailLen   = 256
	MaxValidationWindow  = 24 * time.Hour
	MaxSwitchInterval    = 24 * time.Hour
	MaxMaxStale          = 24 * time.Hour
)

// normalize checks a health check and fills in its defaults: interval 1s,
// timeout half the interval but at most 1s, rise and fall 2, path "/" for
// http.
func (h *HealthCheck) normalize() *Error {
	h.Type = strings.ToLower(strings.TrimSpace(h.Type))
	switch h.Type {
	case CheckHTTP:
		if h.Path == "" {
			h.Path = "/"
		}
		if h.Path[0] != '/' || len(h.Path) > MaxCheckPathLen || strings.ContainsAny(h.Path, " \t\r\n") || !printable(h.Path) {
			return Invalid("health_check.path must start with / and hold at most %d printable characters without spaces", MaxCheckPathLen)
		}
		if len(h.Host) > MaxCheckHostLen || strings.ContainsAny(h.Host, " \t\r\n") || !printable(h.Host) {
			return Invalid("health_check.host must be a host name of at most %d characters", MaxCheckHostLen)
		}
		if h.ExpectStatus != 0 && (h.ExpectStatus < 100 || h.ExpectStatus > 599) {
			return Invalid("health_check.expect_status %d is not an HTTP status (100..599)", h.ExpectStatus)
		}
	case CheckTCP:
		if h.Path != "" || h.Host != "" || h.ExpectStatus != 0 {
			return Invalid("health_check: path, host and expect_status apply to http checks only")
		}
	case "":
		return Invalid("health_check.type is required (http or tcp)")
	default:
		return Invalid("health_check.type %q is unknown (want http or tcp)", h.Type)
	}
	if h.Port < 1 || h.Port > 65535 {
		return Invalid("health_check.port %d is out of range (1..65535)", h.Port)
	}
	if h.Interval == 0 {
		h.Interval = Duration(DefaultCheckInterval)
	}
	if iv := h.Interval.D(); iv < MinCheckInterval || iv > MaxCheckInterval {
		return Invalid("health_check.interval %s is out of range (%s..%s)", iv, MinCheckInterval, MaxCheckInterval)
	}
	if h.Timeout == 0 {
		h.Timeout = h.Interval / 2
		if h.Timeout.D() > time.Second {
			h.Timeout = Duration(time.Second)
		}
	}
	if h.Timeout <= 0 || h.Timeout >= h.Interval {
		return Invalid("health_check.timeout %s must be above 0 and below the interval %s", h.Timeout, h.Interval)
	}
	if h.Rise == 0 {
		h.Rise = DefaultRiseFall
	}
	if h.Fall == 0 {
		h.Fall = DefaultRiseFall
	}
	if h.Rise < 1 || h.Rise > MaxRiseFall || h.Fall < 1 || h.Fall > MaxRiseFall {
		return Invalid("health_check.rise and fall must be between 1 and %d", MaxRiseFall)
	}
	return nil
}

// normalizeSafety checks the health check, validation and safety fields of
// a service put. min_healthy defaults to 1 when a health check is set.
func (s *ServiceSpec) normalizeSafety() *Error {
	if s.HealthCheck != nil {
		hc := *s.HealthCheck
		if e := hc.normalize(); e != nil {
			return e
		}
		s.HealthCheck = &hc
		if s.MinHealthy == 0 {
			s.MinHealthy = 1
		}
	}
	if s.MinHealthy < 0 || s.MinHealthy > MaxPoolAddresses {
		return Invalid("min_healthy %d is out of range (0..%d)", s.MinHealthy, MaxPoolAddresses)
	}
	if s.HealthCheck == nil {
		if s.MinHealthy > 0 {
			return Invalid("min_healthy needs a health_check")
		}
		if s.FailClosed {
			return Invalid("fail_closed needs a health_check")
		}
	}
	if v := s.Validation; v != nil {
		if w := v.Window.D(); w <= 0 || w > MaxValidationWindow {
			return Invalid("validation.window %s is out of range (above 0, at most %s)", w, MaxValidationWindow)
		}
		if v.AutoRollback && s.HealthCheck == nil {
			return Invalid("validation.auto_rollback needs a health_check")
		}
		cp := *v
		s.Validation = &cp
	}
	if iv := s.MinSwitchInterval.D(); iv < 0 || iv > MaxSwitchInterval {
		return Invalid("min_switch_interval %s is out of range (0..%s)", iv, MaxSwitchInterval)
	}
	return nil
}

// normalize checks the transitions of an OpHealth command.
func (h *HealthSpec) normalize() *Error {
	if len(h.Changes) == 0 {
		return Invalid("health: no changes")
	}
	if len(h.Changes) > 2*MaxPoolAddresses {
		return Invalid("health: at most %d changes", 2*MaxPoolAddresses)
	}
	seen := map[string]bool{}
	out := make([]HealthChange, len(h.Changes))
	for i, ch := range h.Changes {
		if !ch.Addr.IsValid() {
			return Invalid("health: invalid address")
		}
		ch.Addr = ch.Addr.Unmap().WithZone("")
		if seen[ch.Addr.String()] {
			return Invalid("health: address %s is listed twice", ch.Addr)
		}
		seen[ch.Addr.String()] = true
		if ch.Status != HealthUp && ch.Status != HealthDown {
			return Invalid("health: status %q of %s is unknown (want up or down)", ch.Status, ch.Addr)
		}
		if len(ch.Detail) > MaxHealthDetailLen || !printable(ch.Detail) {
			return Invalid("health: detail of %s must be printable and at most %d characters", ch.Addr, MaxHealthDetailLen)
		}
		out[i] = ch
	}
	h.Changes = out
	return nil
}

// normalizeSafety checks the fields every command may carry for the
// safety rules.
func (c *Command) normalizeSafety() *Error {
	if c.Force && strings.TrimSpace(c.Reason) == "" {
		return Invalid("force needs a reason")
	}
	switch c.IfState {
	case "", PhaseStable, PhaseDeployed, PhaseValidating, PhaseRolledBack:
	default:
		return Invalid("if_state %q is unknown", c.IfState)
	}
	if ms := c.MaxStale.D(); ms < 0 || ms > MaxMaxStale {
		return Invalid("max_stale %s is out of range (0..%s)", ms, MaxMaxStale)
	}
	return nil
}
