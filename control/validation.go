package control

import (
	"fmt"
	"net/netip"
	"strings"
)

// Validation is what happens after a switch: the service stays
// `validating` for Window; when AutoRollback is on and the new colour falls
// below min_healthy within the window, the prober rolls it back.
//
// At the end of a window that passed, the prober commits OpValidated: the
// service becomes `stable` (validated) but keeps Previous, so a manual
// rollback still works and `complete` still retires the old colour (and
// honours the retire watermark). Without a validation window a switch stays
// `validating` until complete or rollback, as it always did.
type Validation struct {
	Window       Duration `json:"window"`
	AutoRollback bool     `json:"auto_rollback"`
}

// ValidationFailed reports whether the validation of the last switch has
// failed and must be rolled back: the service is validating with
// auto_rollback and a health check, its active colour has fewer than
// min_healthy healthy addresses, and at least one of them went down after
// the switch and before the end of the window (a colour that was already
// down when a switch was forced is not rolled back until it has come up and
// gone down again). reason names the failing checks.
//
// It reads only the state, so every node and every prober agrees.
func (s *Service) ValidationFailed() (reason string, failed bool) {
	if s.State != PhaseValidating || s.Validation == nil || !s.Validation.AutoRollback ||
		s.HealthCheck == nil || s.Previous == "" {
		return "", false
	}
	n := s.HealthOf(s.Active)
	if n.Healthy >= s.MinHealthy {
		return "", false
	}
	fell := false
	var failing []string
	for _, a := range s.ActivePool().Addresses {
		h := s.Health[a]
		if h.Status != HealthUp {
			failing = append(failing, describeAddr(s.HealthCheck, a, h))
		}
		if h.Status == HealthDown && !h.Since.Before(s.LastSwitchAt) &&
			(s.ValidatingUntil.IsZero() || h.Since.Before(s.ValidatingUntil)) {
			fell = true
		}
	}
	if !fell {
		return "", false
	}
	reason = fmt.Sprintf("validation of %s %s failed: %d/%d healthy, min_healthy %d: %s",
		s.Active, s.ActivePool().Version, n.Healthy, n.Total, s.MinHealthy, strings.Join(failing, "; "))
	if len(reason) > MaxReasonLen {
		reason = reason[:MaxReasonLen-3] + "..."
	}
	return reason, true
}

// describeAddr names one address's check and its status for a reason.
func describeAddr(hc *HealthCheck, a netip.Addr, h AddrHealth) string {
	st := h.Status.Name()
	target := hc.Type + " " + netip.AddrPortFrom(a, uint16(hc.Port)).String()
	if hc.Type == CheckHTTP {
		target += hc.Path
	}
	if h.Detail != "" {
		return fmt.Sprintf("%s %s (%s)", target, st, h.Detail)
	}
	return target + " " + st
}

// validated ends a validation window that has passed: cmd.Time must be at
// or after validating_until, and the validation must not have failed.
func (s *State) validated(svc *Service, cmd Command) (*Service, Record, *Error) {
	if svc.State != PhaseValidating || svc.ValidatingUntil.IsZero() {
		return nil, Record{}, conflictWith(svc, "%s has no validation window running", trimDot(svc.Name))
	}
	if cmd.Time.Before(svc.ValidatingUntil) {
		return nil, Record{}, conflictWith(svc, "the validation window of %s runs until %s",
			trimDot(svc.Name), svc.ValidatingUntil.UTC().Format(timeFormat))
	}
	if why, failed := svc.ValidationFailed(); failed {
		return nil, Record{}, conflictWith(svc, "%s", why)
	}
	next := svc.clone()
	next.State = PhaseStable
	next.ValidatedAt = cmd.Time
	next.ValidatingUntil = svc.ValidatingUntil
	rec := s.newRecord(cmd, string(svc.Active), string(svc.Active), svc.ActivePool().Version)
	if rec.Reason == "" {
		n := svc.HealthOf(svc.Active)
		rec.Reason = fmt.Sprintf("validation window of %s passed; %s %d/%d healthy",
			svc.Validation.Window, svc.Active, n.Healthy, n.Total)
	}
	return next, rec, nil
}

const timeFormat = "2006-01-02T15:04:05.000Z07:00"
