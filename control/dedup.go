package control

import "sort"

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

// dedup remembers the results of recent requests by request id, in two
// generations: when the current one is full it becomes the previous one
// and the oldest generation is forgotten. Immutable: add copies one shard
// of the current generation, so its cost does not grow with the number of
// ids remembered.
type dedup struct {
	cur, prev shardMap[*seenRequest]
}

func (d *dedup) get(id string) *seenRequest {
	if d == nil || id == "" {
		return nil
	}
	if r, ok := d.cur.Get(id); ok {
		return r
	}
	r, _ := d.prev.Get(id)
	return r
}

func (d *dedup) add(r *seenRequest) *dedup {
	n := &dedup{}
	if d != nil {
		*n = *d
	}
	if n.cur.Len() >= DedupGeneration {
		n.prev, n.cur = n.cur, shardMap[*seenRequest]{}
	}
	n.cur = n.cur.With(r.ID, r)
	return n
}

// byIndex lists a generation in the order its requests were applied.
func byIndex(m shardMap[*seenRequest]) []*seenRequest {
	if m.Len() == 0 {
		return nil
	}
	out := make([]*seenRequest, 0, m.Len())
	m.Range(func(_ string, r *seenRequest) bool {
		out = append(out, r)
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Result.Index < out[j].Result.Index })
	return out
}
