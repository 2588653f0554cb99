package control

import "fmt"

// Quotas bound what the replicated state may hold, so that a snapshot
// always stays well below what a node agrees to restore (cluster's 1 GiB
// snapshot cap). Every node applies the same constants, so the refusal is
// deterministic.
type Quotas struct {
	MaxServices int
	MaxZones    int
	MaxTokens   int
	// MaxStateBytes bounds the estimated encoded size of services, zones,
	// tokens and history. The estimate errs on the large side; the
	// remembered request ids (a bounded number) come on top.
	MaxStateBytes int64
}

// DefaultQuotas are the limits every node enforces.
var DefaultQuotas = Quotas{
	MaxServices:   100_000,
	MaxZones:      1_000,
	MaxTokens:     10_000,
	MaxStateBytes: 512 << 20,
}

// quota is what Apply enforces; tests lower it.
var quota = DefaultQuotas

// CodeQuota is a refusal because the state would outgrow a quota (507).
const CodeQuota Code = "quota_exceeded"

// QuotaExceeded builds a quota refusal.
func QuotaExceeded(format string, a ...any) *Error { return errf(CodeQuota, format, a...) }

// Size is the estimated encoded size of the state, in bytes.
func (s *State) Size() int64 { return s.size }

// setService puts svc under name, keeping the size estimate.
func (s *State) setService(name string, svc *Service) {
	if old, ok := s.services.Get(name); ok {
		s.size -= serviceSize(old)
	}
	s.services = s.services.With(name, svc)
	s.size += serviceSize(svc)
}

func (s *State) dropService(name string) {
	if old, ok := s.services.Get(name); ok {
		s.size -= serviceSize(old)
	}
	s.services = s.services.Without(name)
}

// checkSize refuses a command that grows a state already over its quota.
func (s *State) checkSize(before *State) *Error {
	if s.size > quota.MaxStateBytes && s.size > before.size {
		return QuotaExceeded("the state would hold about %s, above the quota of %s; delete services or zones first",
			byteSize(s.size), byteSize(quota.MaxStateBytes))
	}
	return nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// jsonLen is at least the length of s encoded as a JSON string's
// contents: json.Marshal writes <, > and & as \u00XX, escapes " and \,
// and may grow bytes that are not ASCII.
func jsonLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<' || c == '>' || c == '&' || c < 0x20:
			n += 6
		case c == '"' || c == '\\':
			n += 2
		case c >= 0x80:
			n += 3
		default:
			n++
		}
	}
	return n
}

// serviceSize estimates the encoded size of a service, generously.
func serviceSize(v *Service) int64 {
	n := 700 + 2*jsonLen(v.Name) + jsonLen(v.Zone)
	for _, p := range []*Pool{v.Blue, v.Green} {
		if p != nil {
			n += 64 + jsonLen(p.Version) + 48*len(p.Addresses)
		}
	}
	for _, h := range v.Health {
		n += 120 + jsonLen(h.Detail)
	}
	if hc := v.HealthCheck; hc != nil {
		n += 256 + jsonLen(hc.Path) + jsonLen(hc.Host)
	}
	return int64(n)
}

// recordSize estimates the encoded size of an audit record, generously.
func recordSize(r Record) int64 {
	n := 240 + jsonLen(r.Actor) + jsonLen(r.Reason) + jsonLen(r.RequestID) + jsonLen(r.Version) +
		jsonLen(r.From) + jsonLen(r.To) + jsonLen(r.Target) + jsonLen(r.OnBehalfOf)
	for _, o := range r.Overrides {
		n += jsonLen(o) + 4
	}
	return int64(n)
}

// zoneSize estimates the encoded size of a zone.
func zoneSize(z *Zone) int64 {
	n := 450 + jsonLen(z.Name) + jsonLen(z.SOA.MName) + jsonLen(z.SOA.RName)
	for _, ns := range z.NS {
		n += jsonLen(ns) + 4
	}
	for h, as := range z.Glue {
		n += jsonLen(h) + 8 + 48*len(as)
	}
	return int64(n)
}

func tokenSize(t *Token) int64 {
	n := 250 + jsonLen(t.ID) + jsonLen(t.Name) + jsonLen(t.CreatedBy) + len(t.SecretHash)
	for _, e := range t.Scope {
		n += jsonLen(e) + 4
	}
	return int64(n)
}

// recount recomputes the size estimate of a decoded state.
func (s *State) recount() {
	var n int64
	s.services.Range(func(_ string, v *Service) bool {
		n += serviceSize(v)
		return true
	})
	s.history.Range(func(_ string, h *history) bool {
		n += h.size()
		return true
	})
	for _, z := range s.zones {
		n += zoneSize(z)
	}
	for _, t := range s.Tokens() {
		n += tokenSize(t)
	}
	s.size = n + s.audit.size()
}
