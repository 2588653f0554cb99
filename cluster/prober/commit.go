package prober

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/bgdns/bgdns/control"
)

// commitTransitions proposes, per service, the addresses whose status after
// hysteresis differs from the committed one: one OpHealth per service.
func (p *Prober) commitTransitions(ctx context.Context, now time.Time) {
	pending := map[string][]control.HealthChange{}
	for k, t := range p.targets {
		if t.status == control.HealthUnknown || t.status == t.committed {
			continue
		}
		pending[k.svc] = append(pending[k.svc], control.HealthChange{
			Addr: k.addr, Status: t.status, Detail: clip(t.detail, control.MaxHealthDetailLen),
		})
	}
	for name, changes := range pending {
		if ctx.Err() != nil || p.held(name, now) {
			continue
		}
		sort.Slice(changes, func(i, j int) bool { return changes[i].Addr.Less(changes[j].Addr) })
		res, ok := p.propose(ctx, control.Command{
			Op: control.OpHealth, Name: name, Health: &control.HealthSpec{Changes: changes},
		}, now)
		if !ok {
			continue
		}
		for _, ch := range changes {
			from := control.HealthUnknown
			if t := p.targets[key{name, ch.Addr}]; t != nil {
				from, t.committed = t.committed, ch.Status
			}
			p.logChange(string(control.OpHealth), name, from.Name(), ch.Status.Name(), res.Index, "",
				"addr", ch.Addr.String(), "detail", ch.Detail)
		}
	}
}

// watchValidation rolls back a validating service whose new colour has
// fallen below min_healthy, and ends the windows that have passed. Both
// read the committed state only, so any leader decides the same.
func (p *Prober) watchValidation(ctx context.Context, now time.Time) {
	st := p.b.State() // after the transitions just committed
	for _, w := range p.watched {
		svc := st.Service(w.Name)
		if svc == nil || svc.State != control.PhaseValidating || ctx.Err() != nil || p.held(svc.Name, now) {
			continue
		}
		guard := control.Command{Name: svc.Name, IfState: control.PhaseValidating, ExpectRevision: svc.Revision}
		if why, failed := svc.ValidationFailed(); failed {
			cmd := guard
			cmd.Op, cmd.Reason = control.OpRollback, why
			if res, ok := p.propose(ctx, cmd, now); ok {
				p.log.Warn("validation failed: rolled back", "service", svc.Name, "to", svc.Previous, "reason", why, "index", res.Index)
				p.logChange(string(control.OpRollback), svc.Name, string(svc.Active), string(svc.Previous), res.Index, why)
			}
			continue
		}
		if !svc.ValidatingUntil.IsZero() && !now.Before(svc.ValidatingUntil) {
			cmd := guard
			cmd.Op = control.OpValidated
			if res, ok := p.propose(ctx, cmd, now); ok {
				to := ""
				if res.Service != nil {
					to = string(res.Service.State)
				}
				p.logChange(string(control.OpValidated), svc.Name, string(control.PhaseValidating), to, res.Index,
					"validation window passed", "active", string(svc.Active))
			}
		}
	}
}

// logChange writes the one info line of a change the prober committed,
// with the fields the API's change lines have (there is no request id:
// nobody asked).
func (p *Prober) logChange(action, service, from, to string, index uint64, reason string, more ...any) {
	attrs := []any{"action", action, "service", strings.TrimSuffix(service, "."), "from", from, "to", to,
		"index", index, "actor", p.opts.Actor, "reason", reason, "request_id", ""}
	p.log.Info("change", append(attrs, more...)...)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
