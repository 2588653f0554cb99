package control

// DedupGeneration is the size of one generation of remembered request ids:
// the last DedupGeneration to 2*DedupGeneration successful requests are
// remembered.
const DedupGeneration = 4096

type seenRequest struct {
	ID     string `json:"id"`
	Op     Op     `json:"op"`
	Name   string `json:"name"`
	Result Result `json:"result"`
}

// dedup remembers the results of recent requests by request id. Immutable:
// add copies the current generation only (bounded), never the older one.
type dedup struct {
	cur, prev map[string]*seenRequest
	order     []string // ids of cur in the order they were added
	prevOrder []string
}

func (d *dedup) get(id string) *seenRequest {
	if d == nil || id == "" {
		return nil
	}
	if r := d.cur[id]; r != nil {
		return r
	}
	return d.prev[id]
}

func (d *dedup) add(r *seenRequest) *dedup {
	n := &dedup{}
	if d != nil {
		*n = *d
	}
	if len(n.cur) >= DedupGeneration {
		n.prev, n.prevOrder = n.cur, n.order
		n.cur, n.order = nil, nil
	}
	cur := make(map[string]*seenRequest, len(n.cur)+1)
	for k, v := range n.cur {
		cur[k] = v
	}
	cur[r.ID] = r
	n.cur = cur
	n.order = append(n.order[:len(n.order):len(n.order)], r.ID)
	return n
}
