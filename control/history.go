package control

import "time"

// MaxHistory is how many audit records are kept per service.
const MaxHistory = 1000

// Record is one audit record: who changed what, when and why.
type Record struct {
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Action    Op        `json:"action"`
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Version   string    `json:"version,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Index     uint64    `json:"index"`
	RequestID string    `json:"request_id,omitempty"`
	// Target names what an audit record is about (zone, node or token id).
	Target string `json:"target,omitempty"`
	// OnBehalfOf is the actor the client named (X-Bgdns-Actor) when the
	// request was authenticated by an ACL token, whose name is Actor.
	OnBehalfOf string `json:"on_behalf_of,omitempty"`
	// Override marks a forced step that a safety rule would have refused;
	// Overrides says which rules.
	Override  bool     `json:"override,omitempty"`
	Overrides []string `json:"overrides,omitempty"`
}

// history is an immutable list of records, newest first. Appending shares
// the old list; once it holds twice MaxHistory it is trimmed in one copy, so
// the cost per record stays constant.
type history struct {
	rec   Record
	next  *history
	n     int
	bytes int64 // estimated encoded size of this record and the older ones
}

// size is the estimated encoded size of the records held (nil: 0).
func (h *history) size() int64 {
	if h == nil {
		return 0
	}
	return h.bytes
}

func (h *history) push(r Record) *history {
	n := 1
	if h != nil {
		n = h.n + 1
	}
	nh := &history{rec: r, next: h, n: n, bytes: h.size() + recordSize(r)}
	if n > 2*MaxHistory {
		return fromRecords(nh.records(MaxHistory))
	}
	return nh
}

// records returns at most limit records, newest first (limit <= 0: all kept).
func (h *history) records(limit int) []Record {
	if limit <= 0 || limit > MaxHistory {
		limit = MaxHistory
	}
	var out []Record
	for ; h != nil && len(out) < limit; h = h.next {
		out = append(out, h.rec)
	}
	return out
}

// fromRecords builds a history from records given newest first.
func fromRecords(recs []Record) *history {
	var h *history
	for i := len(recs) - 1; i >= 0; i-- {
		n := 1
		if h != nil {
			n = h.n + 1
		}
		h = &history{rec: recs[i], next: h, n: n, bytes: h.size() + recordSize(recs[i])}
	}
	return h
}
