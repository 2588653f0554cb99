package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// Headers the API reads or writes.
const (
	HeaderRequestID = "X-Request-Id"
	HeaderActor     = "X-Bgdns-Actor"
	HeaderForwarded = "X-Bgdns-Forwarded"
)

// proposeTimeout bounds how long a handler waits for a commit.
const proposeTimeout = 30 * time.Second

// mutation is a decoded write, ready to be stamped and proposed.
type mutation struct {
	cmd  control.Command
	meta RequestMeta
	body []byte // the request body as read, for forwarding
	// rebase, when set, builds the command from the current state (a merge
	// patch is applied to the service as it is) and returns the revision it
	// read. Unless the client named a revision, commit makes Apply check
	// that one, and builds and proposes again when the service moved on in
	// between, so a concurrent write is never lost.
	rebase func() (control.Command, uint64, error)
	// action names the change in the log line when it is not cmd.Op.
	action string
}

// maxRebase bounds how often commit rebuilds a rebased command.
const maxRebase = 3

// commit stamps m's command, proposes it, forwards it to the leader when
// this node is a follower, waits when asked and writes the response.
func (h *handler) commit(w http.ResponseWriter, r *http.Request, m mutation) {
	rev, err := expectRevision(r, m.meta.ExpectRevision)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	reqID, err := requestID(r, m.meta.RequestID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	wait, waitFor, err := h.waitParams(r, m.meta.Wait)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	id := identityOf(r)
	if m.meta.Force && !id.role.Includes(control.RoleOperator) {
		h.writeError(w, r, forbidden("force needs a token of role operator or above; %q has role %s", id.name, id.role))
		return
	}
	var cmd control.Command
	var res control.Result
	for attempt := 1; ; attempt++ {
		cmd = m.cmd
		var base uint64
		if m.rebase != nil {
			if cmd, base, err = m.rebase(); err != nil {
				h.writeError(w, r, err)
				return
			}
		}
		cmd.ExpectRevision = rev
		if rev == 0 {
			cmd.ExpectRevision = base
		}
		cmd.RequestID = reqID
		cmd.Actor, cmd.OnBehalfOf = id.actor(r)
		cmd.Reason = m.meta.Reason
		cmd.Force = m.meta.Force
		cmd.MaxStale = control.Duration(h.opts.MaxStale)
		res, err = h.tryPropose(w, r, &cmd)
		if err != nil && rev == 0 && base != 0 && attempt < maxRebase &&
			control.CodeOf(err) == control.CodeConflict && h.movedOn(cmd.Name, base) {
			continue
		}
		break
	}
	if err != nil {
		h.proposeFailed(w, r, err, m.body, cmd.RequestID, id, cmd.Actor)
		return
	}
	h.logChange(cmd, res, m.action)
	out := Mutation{
		Index: res.Index, Duplicate: res.Duplicate, RequestID: cmd.RequestID,
		Service: toService(res.Service), Zone: toZone(res.Zone),
	}
	if wait {
		out.Wait = h.waitAll(r.Context(), res.Index, waitFor)
	}
	if out.Service != nil && cmd.Op != control.OpServiceDelete {
		w.Header().Set("ETag", etag(out.Service.Revision))
	}
	status := http.StatusOK
	if out.Wait != nil && !out.Wait.Complete {
		// committed, but not confirmed everywhere in time: the body says
		// which nodes lag
		status = http.StatusGatewayTimeout
	}
	writeJSON(w, status, out)
}

// movedOn reports whether the service name is no longer at revision rev.
func (h *handler) movedOn(name string, rev uint64) bool {
	svc := h.b.State().Service(name)
	return svc == nil || svc.Revision != rev
}

// propose normalizes cmd, proposes it and checks what Apply decided. On a
// follower it forwards the original request (body) to the leader. It
// reports false when it has written the response: an invalid command, the
// forwarded answer, or an error.
func (h *handler) propose(w http.ResponseWriter, r *http.Request, cmd *control.Command, body []byte, id identity) (control.Result, bool) {
	res, err := h.tryPropose(w, r, cmd)
	if err != nil {
		h.proposeFailed(w, r, err, body, cmd.RequestID, id, cmd.Actor)
		return control.Result{}, false
	}
	return res, true
}

// tryPropose normalizes cmd and proposes it. The error is the command's
// shape, the proposal's failure (not leader, no quorum) or what Apply
// refused.
func (h *handler) tryPropose(w http.ResponseWriter, r *http.Request, cmd *control.Command) (control.Result, error) {
	if e := cmd.Normalize(); e != nil {
		return control.Result{}, e
	}
	w.Header().Set(HeaderRequestID, cmd.RequestID)
	ctx, cancel := context.WithTimeout(r.Context(), proposeTimeout)
	res, err := h.b.Propose(ctx, *cmd)
	cancel()
	if err != nil {
		return control.Result{}, err
	}
	if res.Err != nil {
		return control.Result{}, res.Err
	}
	return res, nil
}

// proposeFailed answers a failed proposal: forwarded to the leader when
// this node is a follower, the error otherwise.
func (h *handler) proposeFailed(w http.ResponseWriter, r *http.Request, err error, body []byte, reqID string, id identity, actor string) {
	if leader, ok := notLeader(err); ok {
		h.forward(w, r, body, leader, reqID, forwardActor(id, actor))
		return
	}
	h.writeError(w, r, err)
}

// waitAll waits until every member (voters and edges) applied index or the timeout passes. It
// is complete only when every node reported in the answer has applied
// index, whatever WaitApplied returned; a timeout is reported in the
// result (and as 504 by the caller), not as an error.
func (h *handler) waitAll(parent context.Context, index uint64, d time.Duration) *WaitResult {
	ctx, cancel := context.WithTimeout(parent, d)
	defer cancel()
	nodes, err := h.b.WaitApplied(ctx, index)
	res := &WaitResult{Index: index, Nodes: nodes, Lagging: []string{}}
	if res.Nodes == nil {
		res.Nodes = []peer.NodeStatus{}
	}
	for _, n := range nodes {
		if n.Applied < index {
			res.Lagging = append(res.Lagging, n.ID)
		}
	}
	res.Complete = err == nil && len(res.Lagging) == 0 && len(nodes) > 0
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// waitParams reads ?wait=all / body "wait" and ?wait_timeout.
func (h *handler) waitParams(r *http.Request, bodyWait string) (bool, time.Duration, error) {
	q := r.URL.Query()
	wait := false
	for _, v := range []string{q.Get("wait"), bodyWait} {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "":
		case "all":
			wait = true
		default:
			return false, 0, badRequest(`wait must be "all", not %q`, v)
		}
	}
	d := h.opts.WaitTimeout
	if s := q.Get("wait_timeout"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			return false, 0, badRequest("wait_timeout %q is not a positive duration such as 5s", s)
		}
		d = min(v, h.opts.MaxWaitTimeout)
	}
	return wait, d, nil
}

// expectRevision merges If-Match and the body's expect_revision.
func expectRevision(r *http.Request, body uint64) (uint64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return body, nil
	}
	s := strings.TrimPrefix(v, "W/")
	s = strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, badRequest(`If-Match %q is not a revision such as "17"`, v)
	}
	if body != 0 && body != n {
		return 0, badRequest("If-Match %d and expect_revision %d disagree", n, body)
	}
	return n, nil
}

// requestID takes the body's or the header's id, or makes a random one.
func requestID(r *http.Request, body string) (string, error) {
	hdr := strings.TrimSpace(r.Header.Get(HeaderRequestID))
	switch {
	case body != "" && hdr != "" && body != hdr:
		return "", badRequest("request_id %q and %s %q disagree", body, HeaderRequestID, hdr)
	case body != "":
		return body, nil
	case hdr != "":
		return hdr, nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]), nil
}

// forwardActor is the X-Bgdns-Actor a forwarded write carries: without
// ACLs the actor this node settled on; with a token, none added (the
// leader names the token again, and the client's own header, passed on
// unchanged, becomes on_behalf_of).
func forwardActor(id identity, actor string) string {
	if id.kind == identityOpen {
		return actor
	}
	return ""
}

func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }
