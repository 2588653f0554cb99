package faults

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// Violation is one failed check.
type Violation struct {
	Check   string `json:"check"` // log-matching, acked-writes, linearizable, dns-monotonic, convergence
	Message string `json:"message"`
}

func (v Violation) String() string { return v.Check + ": " + v.Message }

// Entry is one raft log entry as read from a node's raft.db.
type Entry struct {
	Index uint64
	Term  uint64
	Type  raft.LogType
	Data  []byte
}

// ReadLog opens dataDir/raft.db read-only (the node must be stopped) and
// returns every entry in it, by index.
func ReadLog(dataDir string) (map[uint64]Entry, uint64, uint64, error) {
	store, err := raftboltdb.New(raftboltdb.Options{
		Path:        filepath.Join(dataDir, "raft.db"),
		BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second},
	})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("open %s: %w", dataDir, err)
	}
	defer store.Close()
	first, err := store.FirstIndex()
	if err != nil {
		return nil, 0, 0, err
	}
	last, err := store.LastIndex()
	if err != nil {
		return nil, 0, 0, err
	}
	out := make(map[uint64]Entry, last-first+1)
	for i := first; i <= last && i > 0; i++ {
		var l raft.Log
		if err := store.GetLog(i, &l); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: index %d: %w", dataDir, i, err)
		}
		out[i] = Entry{Index: l.Index, Term: l.Term, Type: l.Type, Data: l.Data}
	}
	return out, first, last, nil
}

// Describe is a short description of an entry's payload.
func Describe(e Entry) string {
	if e.Type != raft.LogCommand {
		return fmt.Sprintf("%v (%d bytes)", e.Type, len(e.Data))
	}
	if len(e.Data) > 1 && e.Data[0] == 0x01 {
		var c struct {
			Op             string `json:"op"`
			Name           string `json:"name"`
			RequestID      string `json:"request_id"`
			To             string `json:"to"`
			ExpectRevision uint64 `json:"expect_revision"`
		}
		if json.Unmarshal(e.Data[1:], &c) == nil {
			s := fmt.Sprintf("%s %s", c.Op, strings.TrimSuffix(c.Name, "."))
			if c.To != "" {
				s += " to=" + c.To
			}
			if c.ExpectRevision != 0 {
				s += fmt.Sprintf(" expect_revision=%d", c.ExpectRevision)
			}
			return s + " request_id=" + c.RequestID
		}
	}
	return fmt.Sprintf("command (%d bytes, tag %#x)", len(e.Data), firstByte(e.Data))
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// NodeLog is one node's log for CheckLogMatching.
type NodeLog struct {
	Node        string
	First, Last uint64
	Entries     map[uint64]Entry
	// Commit is the node's commit index when it was stopped (read just
	// before); 0 when unknown, which makes every entry count as committed.
	Commit uint64
}

// CheckLogMatching compares, for every index present in every node's log
// and every pair of nodes, term, type and data. Two entries at the same
// index must be identical when they have the same term (raft's log
// matching property) or when both nodes had committed that index. An
// entry only one of the two had committed, or neither, may differ in its
// term: the uncommitted tail of a leader that was cut off, which the next
// leader overwrites when it reaches it; the second result counts those.
// It reports the first mismatching index (and counts the others).
func CheckLogMatching(logs []NodeLog) ([]Violation, int) {
	if len(logs) < 2 {
		return nil, 0
	}
	lo, hi := uint64(0), uint64(math.MaxUint64)
	for _, l := range logs {
		lo, hi = max(lo, l.First), min(hi, l.Last)
	}
	commit := func(l NodeLog) uint64 {
		if l.Commit == 0 {
			return math.MaxUint64
		}
		return l.Commit
	}
	var first string
	bad, tails := 0, 0
	for i := lo; i <= hi && lo > 0; i++ {
		mismatch, tail := false, false
		for a := 0; a < len(logs) && !mismatch; a++ {
			for b := a + 1; b < len(logs); b++ {
				x, y := logs[a].Entries[i], logs[b].Entries[i]
				if x.Term == y.Term && x.Type == y.Type && string(x.Data) == string(y.Data) {
					continue
				}
				if x.Term != y.Term && i > min(commit(logs[a]), commit(logs[b])) {
					tail = true
					continue
				}
				mismatch = true
				if first == "" {
					first = fmt.Sprintf("index %d: %s has term %d %q, %s has term %d %q",
						i, logs[a].Node, x.Term, Describe(x), logs[b].Node, y.Term, Describe(y))
				}
				break
			}
		}
		if mismatch {
			bad++
		} else if tail {
			tails++
		}
	}
	if bad == 0 {
		return nil, tails
	}
	return []Violation{{Check: "log-matching", Message: fmt.Sprintf("%s (%d mismatching indexes in %d..%d)", first, bad, lo, hi)}}, tails
}

// CheckAckedWrites checks that every acknowledged write appears exactly
// once in every node's final history of its service, at the index the
// client was given. histories maps node -> service -> records (oldest
// first); truncated says which services' histories were cut at MaxHistory
// (older writes are not checked there).
func CheckAckedWrites(ops []Op, histories map[string]map[string][]Record) []Violation {
	var out []Violation
	nodes := make([]string, 0, len(histories))
	for n := range histories {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	type pos struct {
		index uint64
		count int
	}
	where := map[string]map[string]pos{} // node -> request id -> position
	oldest := map[string]map[string]uint64{}
	for _, n := range nodes {
		where[n] = map[string]pos{}
		oldest[n] = map[string]uint64{}
		for svc, recs := range histories[n] {
			if len(recs) > 0 {
				oldest[n][svc] = recs[0].Index
			}
			for _, r := range recs {
				if r.RequestID == "" {
					continue
				}
				p := where[n][r.RequestID]
				p.count++
				if p.count == 1 {
					p.index = r.Index
				}
				where[n][r.RequestID] = p
			}
		}
	}
	// The same request id at different indexes on different nodes comes
	// first: it is the plainest sign of diverged logs.
	ids := map[string]map[uint64][]string{}
	for _, n := range nodes {
		for id, p := range where[n] {
			if ids[id] == nil {
				ids[id] = map[uint64][]string{}
			}
			ids[id][p.index] = append(ids[id][p.index], n)
		}
	}
	var split []string
	for id, m := range ids {
		if len(m) > 1 {
			split = append(split, id)
		}
	}
	sort.Slice(split, func(i, j int) bool { return minKey(ids[split[i]]) < minKey(ids[split[j]]) })
	const maxReports = 5
	counts := map[string]int{}
	report := func(kind, format string, a ...any) {
		counts[kind]++
		if counts[kind] <= maxReports {
			out = append(out, Violation{Check: "acked-writes", Message: fmt.Sprintf(format, a...)})
		}
	}
	for _, id := range split {
		var parts []string
		for idx, ns := range ids[id] {
			parts = append(parts, fmt.Sprintf("index %d on %s", idx, strings.Join(ns, ",")))
		}
		sort.Strings(parts)
		report("split", "request %s applied at %s", id, strings.Join(parts, " but at "))
	}
	for _, op := range ops {
		if op.Outcome != OK {
			continue
		}
		for _, n := range nodes {
			p := where[n][op.RequestID]
			switch {
			case p.count == 0 && len(histories[n][op.Service]) >= 1000 && op.Index < oldest[n][op.Service]:
				// trimmed from the history
			case p.count == 0:
				report("missing", "%s acknowledged at index %d (client %d via %s) is missing from %s's history of %s",
					op.RequestID, op.Index, op.Client, op.Node, n, op.Service)
			case p.count > 1:
				report("twice", "%s appears %d times in %s's history", op.RequestID, p.count, n)
			case p.index != op.Index:
				report("moved", "%s acknowledged at index %d is at index %d in %s's history", op.RequestID, op.Index, p.index, n)
			}
		}
	}
	if len(counts) > 0 {
		out = append(out, Violation{Check: "acked-writes", Message: fmt.Sprintf(
			"in all: %d request ids at different indexes on different nodes, %d acknowledged writes missing from a node's history, %d applied twice, %d at another index than acknowledged",
			counts["split"], counts["missing"], counts["twice"], counts["moved"])})
	}
	return out
}

func minKey(m map[uint64][]string) uint64 {
	k := uint64(math.MaxUint64)
	for i := range m {
		k = min(k, i)
	}
	return k
}

// Linearizability --------------------------------------------------------------

type casInput struct {
	Service string
	Action  string
	Expect  uint64
	ID      string
}

type casOutput struct {
	Outcome Outcome
	Index   uint64 // ok: the new revision
	Current uint64 // conflict: the revision the server reported (0: none)
}

// RevisionModel is a compare-and-set register per service: a switch or
// rollback with expect_revision r succeeds only when the revision is r,
// and the revision becomes the entry's Raft index; a 409 is right only
// when the revision is not r (and is the one it reports). An unknown
// outcome that never took effect changes nothing.
func RevisionModel(initial map[string]uint64) porcupine.Model {
	return porcupine.Model{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			by := map[string][]porcupine.Operation{}
			var keys []string
			for _, op := range h {
				k := op.Input.(casInput).Service
				if by[k] == nil {
					keys = append(keys, k)
				}
				by[k] = append(by[k], op)
			}
			sort.Strings(keys)
			var out [][]porcupine.Operation
			for _, k := range keys {
				out = append(out, by[k])
			}
			return out
		},
		Init: func() any { return uint64(0) },
		Step: func(state, input, output any) (bool, any) {
			rev := state.(uint64)
			in, out := input.(casInput), output.(casOutput)
			if rev == 0 { // the first step of a partition starts from the service's initial revision
				rev = initial[in.Service]
			}
			switch out.Outcome {
			case OK:
				if rev == in.Expect && out.Index > rev {
					return true, out.Index
				}
				return false, rev
			case Conflict:
				ok := rev != in.Expect && (out.Current == 0 || out.Current == rev)
				return ok, rev
			default: // did not take effect
				return true, rev
			}
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(casInput), output.(casOutput)
			s := fmt.Sprintf("%s(expect %d)", in.Action, in.Expect)
			switch out.Outcome {
			case OK:
				return s + fmt.Sprintf(" -> ok %d", out.Index)
			case Conflict:
				return s + fmt.Sprintf(" -> 409 (at %d)", out.Current)
			default:
				return s + " -> not applied"
			}
		},
		DescribeState: func(state any) string { return fmt.Sprintf("revision %d", state.(uint64)) },
	}
}

// LinearizabilityHistory turns the client operations into porcupine
// operations. An unknown outcome is resolved with the final history
// (applied: request id -> index): if its request was applied it is an ok
// at that index that may have taken effect any time after its call (its
// return is at infinity); otherwise it had no effect.
func LinearizabilityHistory(ops []Op, applied map[string]uint64) []porcupine.Operation {
	var out []porcupine.Operation
	for _, op := range ops {
		in := casInput{Service: op.Service, Action: op.Action, Expect: op.ExpectRevision, ID: op.RequestID}
		o := casOutput{Outcome: op.Outcome, Index: op.Index, Current: op.Current}
		ret := op.Return
		switch op.Outcome {
		case OK, Conflict:
		default:
			if idx, ok := applied[op.RequestID]; ok {
				o = casOutput{Outcome: OK, Index: idx}
				ret = math.MaxInt64
			} else {
				o = casOutput{Outcome: Unknown}
			}
		}
		out = append(out, porcupine.Operation{ClientId: op.Client, Input: in, Call: op.Call, Output: o, Return: ret})
	}
	return out
}

// CheckLinearizable runs porcupine over ops. When the history is not
// linearizable (or the check timed out), it writes the visualisation to
// htmlPath.
func CheckLinearizable(ops []Op, applied map[string]uint64, initial map[string]uint64, timeout time.Duration, htmlPath string) []Violation {
	model := RevisionModel(initial)
	h := LinearizabilityHistory(ops, applied)
	res, info := porcupine.CheckOperationsVerbose(model, h, timeout)
	switch res {
	case porcupine.Ok:
		return nil
	case porcupine.Unknown:
		return []Violation{{Check: "linearizable", Message: fmt.Sprintf("porcupine gave no answer within %v (%d operations)", timeout, len(h))}}
	}
	msg := fmt.Sprintf("the history of %d operations is not linearizable", len(h))
	if htmlPath != "" {
		if err := porcupine.VisualizePath(model, info, htmlPath); err == nil {
			msg += "; see " + htmlPath
		} else {
			msg += fmt.Sprintf("; visualisation failed: %v", err)
		}
	}
	return []Violation{{Check: "linearizable", Message: msg}}
}
