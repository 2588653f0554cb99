package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is what a client learned about one write.
type Outcome string

const (
	OK       Outcome = "ok"       // acknowledged: applied at Index
	Conflict Outcome = "conflict" // 409: the precondition failed, not applied
	Unknown  Outcome = "unknown"  // timeout, 5xx, connection error: may or may not have happened
	Refused  Outcome = "refused"  // another 4xx: not applied (a bug in the client or the server)
)

// Op is one switch or rollback as a client saw it. Times are nanoseconds
// since the start of the run.
type Op struct {
	Client         int     `json:"client"`
	Service        string  `json:"service"`
	Action         string  `json:"action"` // switch or rollback
	To             string  `json:"to,omitempty"`
	ExpectRevision uint64  `json:"expect_revision"`
	RequestID      string  `json:"request_id"`
	Node           string  `json:"node"`
	Call           int64   `json:"call"`
	Return         int64   `json:"return"`
	Outcome        Outcome `json:"outcome"`
	Index          uint64  `json:"index,omitempty"`   // ok: the new revision
	Current        uint64  `json:"current,omitempty"` // conflict: the revision the server reported
	Status         int     `json:"status,omitempty"`
	Err            string  `json:"err,omitempty"`
}

// ServiceView is the part of a service the clients read.
type ServiceView struct {
	Name     string `json:"name"`
	Active   string `json:"active"`
	Previous string `json:"previous"`
	State    string `json:"state"`
	Revision uint64 `json:"revision"`
}

type mutationResp struct {
	Index   uint64       `json:"index"`
	Service *ServiceView `json:"service"`
}

type errorResp struct {
	Error struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Service *ServiceView `json:"service"`
	} `json:"error"`
}

// Recorder collects the operations of every client.
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []Op
}

func NewRecorder(start time.Time) *Recorder { return &Recorder{start: start} }

func (r *Recorder) now() int64 { return int64(time.Since(r.start)) }

func (r *Recorder) add(op Op) {
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// Ops returns a copy of the recorded operations.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Op(nil), r.ops...)
}

// Writers runs k clients until ctx is done. Each picks a service and a
// node at random, reads the service from a random node, and issues the
// step its state allows (rollback after a switch, otherwise a switch to
// the idle colour) with expect_revision set to the revision it read and a
// fresh request id.
//
// think, when positive, is the longest pause a client takes between two
// writes (a random part of it): a leader that is not saturated is idle now
// and then, with all its entries replicated, which is when a pause of it
// can leave stray entries behind.
func Writers(ctx context.Context, k int, seed int64, nodes func() []*Node, services []string, rec *Recorder, timeout, think time.Duration, gate *Gate) *sync.WaitGroup {
	var wg sync.WaitGroup
	var seq atomic.Uint64
	for c := 0; c < k; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed*1000 + int64(c)))
			known := map[string]*ServiceView{} // what the last answer said, per service
			for ctx.Err() == nil {
				ns := nodes()
				if len(ns) == 0 {
					sleepCtx(ctx, 20*time.Millisecond)
					continue
				}
				svc := services[rng.Intn(len(services))]
				view := known[svc]
				if view == nil {
					v, err := readService(ns[rng.Intn(len(ns))], svc, timeout)
					if err != nil {
						sleepCtx(ctx, time.Duration(10+rng.Intn(40))*time.Millisecond)
						continue
					}
					view = v
				}
				gate.Wait(ctx)
				n := ns[rng.Intn(len(ns))]
				id := fmt.Sprintf("s%d-c%d-%d", seed, c, seq.Add(1))
				op := Op{Client: c, Service: svc, ExpectRevision: view.Revision, RequestID: id, Node: n.ID}
				body := map[string]any{"expect_revision": view.Revision, "request_id": id, "reason": "fault run"}
				if view.State == "validating" && view.Previous != "" {
					op.Action = "rollback"
				} else {
					op.Action = "switch"
					op.To = idle(view.Active)
					body["to"] = op.To
				}
				if ctx.Err() != nil {
					return
				}
				op.Call = rec.now()
				known[svc] = doWrite(n, &op, body, timeout)
				op.Return = rec.now()
				rec.add(op)
				if op.Outcome != OK && op.Outcome != Conflict {
					sleepCtx(ctx, time.Duration(20+rng.Intn(80))*time.Millisecond)
				}
				if think > 0 {
					sleepCtx(ctx, time.Duration(rng.Int63n(int64(think))))
				}
			}
		}()
	}
	return &wg
}

func idle(active string) string {
	if active == "green" {
		return "blue"
	}
	return "green"
}

// doWrite issues op and records its outcome; it returns the service as the
// answer gave it (nil when it gave none).
func doWrite(n *Node, op *Op, body map[string]any, timeout time.Duration) *ServiceView {
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	url := n.URL() + "/v1/services/" + strings.TrimSuffix(op.Service, ".") + "/" + op.Action
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		op.Outcome, op.Err = Unknown, err.Error()
		return nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := plainClient.Do(req)
	if err != nil {
		op.Outcome, op.Err = Unknown, err.Error()
		return nil
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	op.Status = resp.StatusCode
	if err != nil {
		op.Outcome, op.Err = Unknown, err.Error()
		return nil
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var m mutationResp
		if err := json.Unmarshal(rb, &m); err != nil || m.Index == 0 {
			op.Outcome, op.Err = Unknown, fmt.Sprintf("200 with an unreadable body: %v %.200s", err, rb)
			return nil
		}
		op.Outcome, op.Index = OK, m.Index
		return m.Service
	case resp.StatusCode == http.StatusConflict:
		var e errorResp
		_ = json.Unmarshal(rb, &e)
		op.Outcome, op.Err = Conflict, e.Error.Message
		if e.Error.Service != nil {
			op.Current = e.Error.Service.Revision
		}
		return e.Error.Service
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		op.Outcome, op.Err = Refused, fmt.Sprintf("%.300s", rb)
	default:
		op.Outcome, op.Err = Unknown, fmt.Sprintf("%.300s", rb)
	}
	return nil
}

func readService(n *Node, svc string, timeout time.Duration) (*ServiceView, error) {
	code, b, err := httpGet(n.URL()+"/v1/services/"+strings.TrimSuffix(svc, "."), timeout)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET service: %d", code)
	}
	var v ServiceView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Record is an audit record of GET /v1/services/{fqdn}/history.
type Record struct {
	Action    string `json:"action"`
	From      string `json:"from"`
	To        string `json:"to"`
	Index     uint64 `json:"index"`
	RequestID string `json:"request_id"`
}

// History reads a service's history from one node, oldest first.
func History(n *Node, svc string) ([]Record, error) {
	code, b, err := httpGet(n.URL()+"/v1/services/"+strings.TrimSuffix(svc, ".")+"/history?limit=5000", 5*time.Second)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("%s: GET history of %s: %d %.200s", n.ID, svc, code, b)
	}
	var h struct {
		Records []Record `json:"records"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, err
	}
	for i, j := 0, len(h.Records)-1; i < j; i, j = i+1, j-1 {
		h.Records[i], h.Records[j] = h.Records[j], h.Records[i]
	}
	return h.Records, nil
}

// PutService creates svc with a blue and a green pool, blue active.
func PutService(n *Node, svc string) error {
	body := `{"ttl":30,"active":"blue","blue":{"version":"1.0","addresses":["10.0.0.1"]},"green":{"version":"2.0","addresses":["10.0.0.2"]}}`
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, n.URL()+"/v1/services/"+strings.TrimSuffix(svc, "."), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := plainClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %d %s", svc, resp.StatusCode, b)
	}
	return nil
}

// RemoveMember asks each of via in turn to remove member id (DELETE
// /v1/cluster/members/{id}); nil once one of them says it is done (or
// that the member is gone already, after an earlier attempt whose answer
// was lost).
func RemoveMember(via []*Node, id string) error {
	var last error
	for _, n := range via {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, n.URL()+"/v1/cluster/members/"+id, nil)
		resp, err := plainClient.Do(req)
		if err != nil {
			cancel()
			last = err
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotFound {
			return nil
		}
		last = fmt.Errorf("DELETE /v1/cluster/members/%s via %s: %d %s", id, n.ID, resp.StatusCode, b)
	}
	return last
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
