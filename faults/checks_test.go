package faults

import (
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

func cmdEntry(i, term uint64, id string) Entry {
	return Entry{Index: i, Term: term, Type: raft.LogCommand,
		Data: append([]byte{0x01}, []byte(`{"op":"switch","name":"svc0.faults.test.","request_id":"`+id+`"}`)...)}
}

func TestCheckLogMatchingFindsTheFirstMismatch(t *testing.T) {
	a := NodeLog{Node: "n1", First: 1, Last: 3, Entries: map[uint64]Entry{
		1: cmdEntry(1, 1, "a"), 2: cmdEntry(2, 2, "b"), 3: {Index: 3, Term: 2, Type: raft.LogNoop},
	}}
	b := NodeLog{Node: "n2", First: 1, Last: 4, Entries: map[uint64]Entry{
		1: cmdEntry(1, 1, "a"), 2: cmdEntry(2, 2, "b"), 3: cmdEntry(3, 2, "c"), 4: cmdEntry(4, 2, "d"),
	}}
	if v, _ := CheckLogMatching([]NodeLog{a, a}); len(v) != 0 {
		t.Fatalf("identical logs: %v", v)
	}
	v, _ := CheckLogMatching([]NodeLog{a, b})
	if len(v) != 1 || !strings.Contains(v[0].Message, "index 3:") || !strings.Contains(v[0].Message, "request_id=c") {
		t.Fatalf("got %v", v)
	}
}

func TestCheckAckedWrites(t *testing.T) {
	ops := []Op{{Service: "s", RequestID: "r1", Outcome: OK, Index: 5}, {Service: "s", RequestID: "r2", Outcome: OK, Index: 6}}
	good := map[string][]Record{"s": {{Index: 5, RequestID: "r1"}, {Index: 6, RequestID: "r2"}}}
	if v := CheckAckedWrites(ops, map[string]map[string][]Record{"n1": good, "n2": good}); len(v) != 0 {
		t.Fatalf("good histories: %v", v)
	}
	bad := map[string][]Record{"s": {{Index: 5, RequestID: "r1"}, {Index: 7, RequestID: "r2"}}}
	v := CheckAckedWrites(ops, map[string]map[string][]Record{"n1": good, "n2": bad})
	if len(v) == 0 || !strings.Contains(v[0].Message, "request r2 applied at index 6 on n1 but at index 7 on n2") {
		t.Fatalf("got %v", v)
	}
}

func TestLinearizabilityModel(t *testing.T) {
	initial := map[string]uint64{"s": 3}
	ok := []Op{
		{Client: 0, Service: "s", Action: "switch", ExpectRevision: 3, RequestID: "a", Call: 0, Return: 10, Outcome: OK, Index: 7},
		{Client: 1, Service: "s", Action: "switch", ExpectRevision: 3, RequestID: "b", Call: 1, Return: 12, Outcome: Conflict, Current: 7},
		{Client: 2, Service: "s", Action: "rollback", ExpectRevision: 7, RequestID: "c", Call: 11, Return: 20, Outcome: Unknown},
		{Client: 0, Service: "s", Action: "switch", ExpectRevision: 9, RequestID: "d", Call: 21, Return: 30, Outcome: OK, Index: 12},
	}
	// c timed out but was applied at 9 (the final history says so).
	if v := CheckLinearizable(ok, map[string]uint64{"a": 7, "c": 9, "d": 12}, initial, 0, ""); len(v) != 0 {
		t.Fatalf("linearizable history rejected: %v", v)
	}
	// Two acknowledged switches from the same revision: one was lost.
	lost := []Op{
		{Client: 0, Service: "s", Action: "switch", ExpectRevision: 3, RequestID: "a", Call: 0, Return: 10, Outcome: OK, Index: 7},
		{Client: 1, Service: "s", Action: "switch", ExpectRevision: 3, RequestID: "b", Call: 11, Return: 20, Outcome: OK, Index: 8},
	}
	if v := CheckLinearizable(lost, nil, initial, 0, ""); len(v) != 1 {
		t.Fatalf("lost write not found: %v", v)
	}
}

// An uncommitted tail in another term is not a mismatch; the same entry
// index and term with other data is, and so is any difference at an index
// both nodes had committed.
func TestCheckLogMatchingCommitIndex(t *testing.T) {
	base := map[uint64]Entry{1: cmdEntry(1, 1, "a"), 2: cmdEntry(2, 1, "b")}
	with := func(extra map[uint64]Entry) map[uint64]Entry {
		m := map[uint64]Entry{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	old := NodeLog{Node: "n1", First: 1, Last: 4, Commit: 2, Entries: with(map[uint64]Entry{3: cmdEntry(3, 2, "x"), 4: cmdEntry(4, 2, "y")})}
	cur := NodeLog{Node: "n2", First: 1, Last: 4, Commit: 4, Entries: with(map[uint64]Entry{3: {Index: 3, Term: 3, Type: raft.LogNoop}, 4: cmdEntry(4, 3, "z")})}
	if v, tails := CheckLogMatching([]NodeLog{old, cur}); len(v) != 0 || tails != 2 {
		t.Fatalf("uncommitted tail of n1: %v, %d tails", v, tails)
	}
	// both committed index 3: the difference is a violation
	old.Commit = 3
	if v, _ := CheckLogMatching([]NodeLog{old, cur}); len(v) != 1 || !strings.Contains(v[0].Message, "index 3:") {
		t.Fatalf("committed on both: %v", v)
	}
	// same term, other entry: a violation whatever the commit index
	old.Commit = 2
	cur.Entries[3] = cmdEntry(3, 2, "w")
	if v, _ := CheckLogMatching([]NodeLog{old, cur}); len(v) != 1 || !strings.Contains(v[0].Message, "index 3:") {
		t.Fatalf("same term, other data: %v", v)
	}
	// unknown commit index: every entry counts as committed
	cur.Entries[3] = Entry{Index: 3, Term: 3, Type: raft.LogNoop}
	old.Commit, cur.Commit = 0, 0
	if v, _ := CheckLogMatching([]NodeLog{old, cur}); len(v) != 1 {
		t.Fatalf("unknown commit index: %v", v)
	}
}
