package faults

import (
	"fmt"
	"sort"
	"time"

	"github.com/miekg/dns"
)

// StaleRules are the node settings the stale checks hold the answers to.
type StaleRules struct {
	Policy   string        // serve or servfail
	MaxStale time.Duration // --max-stale
	StaleTTL time.Duration // --stale-ttl (whole seconds)
	// Margin is added to MaxStale: time for the node to notice, and for
	// the observer's query to be answered.
	Margin time.Duration
}

// CutWindow is a time during which a node could not reach a majority of
// the cluster (ns since the start of the run).
type CutWindow struct {
	Node     string
	From, To int64
	Fault    string
}

// CutWindows are the windows of the faults that cut nodes off (Fault.Cut).
func CutWindows(faults []Fault, end int64) []CutWindow {
	var out []CutWindow
	for _, f := range faults {
		to := f.Until
		if to == 0 {
			to = end
		}
		for _, n := range f.Cut {
			out = append(out, CutWindow{Node: n, From: f.At, To: to, Fault: f.Kind})
		}
	}
	return out
}

// violations collects findings of one kind and reports how many there
// were with the first few.
type violations struct {
	check string
	what  string
	n     int
	first []string
}

func (v *violations) add(format string, a ...any) {
	v.n++
	if len(v.first) < 3 {
		v.first = append(v.first, fmt.Sprintf(format, a...))
	}
}

func (v *violations) out() []Violation {
	if v.n == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d answers %s", v.n, v.what)
	for _, f := range v.first {
		msg += "; " + f
	}
	return []Violation{{Check: v.check, Message: msg}}
}

func ms(ns int64) string { return time.Duration(ns).Round(time.Millisecond).String() }

// CheckCutOff holds the answers of nodes while they were cut off to the
// stale policy: from MaxStale+Margin after the cut until the heal, with
// servfail no NOERROR at all, with serve no NOERROR without Extended DNS
// Error 3 and no TTL above StaleTTL. It also counts, per policy, how the
// cut-off nodes answered (for the report).
func CheckCutOff(answers []Answer, cuts []CutWindow, r StaleRules) ([]Violation, map[string]int) {
	counts := map[string]int{}
	fresh := &violations{check: "stale-policy", what: "from cut-off nodes were NOERROR without EDE 3 (fresh) more than max-stale+margin after the cut"}
	noerror := &violations{check: "stale-policy", what: "from cut-off nodes were NOERROR more than max-stale+margin after the cut, with --stale-policy servfail"}
	bound := int64(r.MaxStale + r.Margin)
	for _, w := range cuts {
		for _, a := range answers {
			if a.Node != w.Node || a.Sent < w.From+bound || a.Recv > w.To {
				continue
			}
			switch {
			case a.Rcode < 0:
				counts["none"]++
			case a.Rcode == dns.RcodeServerFailure:
				counts["servfail"]++
			case a.Rcode == dns.RcodeSuccess && a.Stale:
				counts["stale"]++
			case a.Rcode == dns.RcodeSuccess:
				counts["fresh"]++
			default:
				counts[dns.RcodeToString[a.Rcode]]++
			}
			if a.Rcode != dns.RcodeSuccess {
				continue
			}
			at := fmt.Sprintf("%s at %s, %s after the cut (%s from %s to %s), revision %d", a.Node, ms(a.Sent), ms(a.Sent-w.From), w.Fault, ms(w.From), ms(w.To), a.Revision)
			if r.Policy == "servfail" {
				noerror.add("%s", at)
			} else if !a.Stale {
				fresh.add("%s", at)
			}
		}
	}
	return append(fresh.out(), noerror.out()...), counts
}

// CheckStaleTTL: every answer marked stale (EDE 3) carries no TTL above
// StaleTTL.
func CheckStaleTTL(answers []Answer, r StaleRules) []Violation {
	v := &violations{check: "stale-ttl", what: fmt.Sprintf("marked stale carried a TTL above --stale-ttl %v", r.StaleTTL)}
	limit := uint32(r.StaleTTL / time.Second)
	for _, a := range answers {
		if a.Rcode == dns.RcodeSuccess && a.Stale && a.MaxTTL > limit {
			v.add("%s at %s: TTL %d", a.Node, ms(a.Sent), a.MaxTTL)
		}
	}
	return v.out()
}

// CheckFreshRevisions: an answer a node gives as current (NOERROR without
// EDE 3) carries, for its service, a revision at least as high as every
// write acknowledged MaxStale+Margin before the query was sent. A node
// counts as current only with a confirmation from the leader less than
// MaxStale old, covering every write acknowledged before it started.
func CheckFreshRevisions(answers []Answer, ops []Op, r StaleRules) []Violation {
	v := &violations{check: "fresh-revision", what: "given as current carried a revision older than a write acknowledged max-stale+margin before"}
	bound := int64(r.MaxStale + r.Margin)
	acked := map[string][]Op{}
	for _, op := range ops {
		if op.Outcome == OK {
			acked[op.Service] = append(acked[op.Service], op)
		}
	}
	bySvc := map[string][]Answer{}
	for _, a := range answers {
		if a.Rcode == dns.RcodeSuccess && !a.Stale && a.HasRev {
			bySvc[a.Service] = append(bySvc[a.Service], a)
		}
	}
	for svc, as := range bySvc {
		ok := acked[svc]
		sort.Slice(ok, func(i, j int) bool { return ok[i].Return < ok[j].Return })
		sort.Slice(as, func(i, j int) bool { return as[i].Sent < as[j].Sent })
		var need uint64
		var by Op
		j := 0
		for _, a := range as {
			for j < len(ok) && ok[j].Return <= a.Sent-bound {
				if ok[j].Index > need {
					need, by = ok[j].Index, ok[j]
				}
				j++
			}
			if a.Revision < need {
				v.add("%s at %s answered revision %d for %s; %s was acknowledged at index %d at %s",
					a.Node, ms(a.Sent), a.Revision, svc, by.RequestID, need, ms(by.Return))
			}
		}
	}
	return v.out()
}

// CheckRemoved: a node removed from the cluster (at removedAt, when the
// removal was acknowledged) gives no NOERROR answer for our zones once
// MaxStale+Margin have passed.
// It also counts how the node answered then (for the report).
func CheckRemoved(answers []Answer, node string, removedAt int64, r StaleRules) ([]Violation, map[string]int) {
	v := &violations{check: "removed-node", what: fmt.Sprintf("from %s were NOERROR more than max-stale+margin after its removal at %s", node, ms(removedAt))}
	counts := map[string]int{}
	for _, a := range answers {
		if a.Node != node || a.Sent < removedAt+int64(r.MaxStale+r.Margin) {
			continue
		}
		switch {
		case a.Rcode < 0:
			counts["none"]++
		default:
			counts[dns.RcodeToString[a.Rcode]]++
		}
		if a.Rcode == dns.RcodeSuccess {
			v.add("at %s (stale=%v, revision %d)", ms(a.Sent), a.Stale, a.Revision)
		}
	}
	return v.out(), counts
}
