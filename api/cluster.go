package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

// clusterTimeout bounds a status read or a membership change.
const clusterTimeout = 10 * time.Second

// clusterPrefix is where clusterResource is mounted.
const clusterPrefix = "/v1/cluster"

// clusterResource serves /v1/cluster.
type clusterResource struct{ h *handler }

func (rs clusterResource) Routes() chi.Router {
	r := chi.NewRouter()
	read := rs.h.need(control.RoleRead, "")
	admin := rs.h.need(control.RoleAdmin, "")
	r.With(read).Get("/", rs.status)
	r.With(read).Get(strings.TrimPrefix(peer.SelfPath, clusterPrefix), rs.self)
	r.With(read).Get(strings.TrimPrefix(peer.CheckpointPath, clusterPrefix), rs.checkpoint)
	r.With(read).Get(strings.TrimPrefix(peer.ReadIndexPath, clusterPrefix), rs.readIndex)
	r.With(admin).Post(strings.TrimPrefix(peer.JoinPath, clusterPrefix), rs.join)
	r.With(admin).Delete("/members/{id}", rs.remove)
	return r
}

func (rs clusterResource) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), clusterTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, toCluster(rs.h.b.Status(ctx)))
}

func (rs clusterResource) self(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, rs.h.b.Self())
}

// checkpoint answers another member's divergence check: this node's hash
// of its applied log at ?index= and at its last applied entry.
func (rs clusterResource) checkpoint(w http.ResponseWriter, r *http.Request) {
	idx, err := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64)
	if err != nil {
		rs.h.writeError(w, r, badRequest("index must be a log index"))
		return
	}
	writeJSON(w, http.StatusOK, rs.h.b.Checkpoint(idx))
}

// readIndex answers a follower's confirmation: the leader's commit index,
// verified with a quorum. Followers answer 503.
func (rs clusterResource) readIndex(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), consistentTimeout)
	defer cancel()
	idx, err := rs.h.b.ReadIndex(ctx)
	if err != nil {
		if _, ok := notLeader(err); ok {
			err = &control.Error{Code: control.CodeNoLeader, Message: "this node is not the leader"}
		}
		rs.h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		CommitIndex uint64 `json:"commit_index"`
	}{idx})
}

func (rs clusterResource) join(w http.ResponseWriter, r *http.Request) {
	var in peer.JoinRequest
	body, err := rs.h.readJSON(r, &in, true)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	if err := in.Validate(); err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	reqID, err := requestID(r, "")
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), clusterTimeout)
	err = rs.h.b.Join(ctx, in)
	cancel()
	if rs.membershipFailed(w, r, body, reqID, err) {
		return
	}
	out := MembershipChange{Joined: &in, RequestID: reqID}
	out.AuditIndex = rs.recordMember(r, control.Command{Op: control.OpMemberJoin, Name: in.ID, RequestID: reqID,
		Member: &control.MemberSpec{RaftAddr: in.RaftAddr, HTTPAddr: in.HTTPAddr, NonVoter: in.Edge()}})
	writeJSON(w, http.StatusOK, out)
}

func (rs clusterResource) remove(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if s, err := url.PathUnescape(id); err == nil {
		id = s
	}
	if err := checkNodeID(id); err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	body, err := readBody(r, rs.h.opts.MaxBodyBytes)
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	reqID, err := requestID(r, "")
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), clusterTimeout)
	err = rs.h.b.Remove(ctx, id)
	cancel()
	if rs.membershipFailed(w, r, body, reqID, err) {
		return
	}
	out := MembershipChange{Removed: id, RequestID: reqID}
	out.AuditIndex = rs.recordMember(r, control.Command{Op: control.OpMemberRemove, Name: id, RequestID: reqID})
	writeJSON(w, http.StatusOK, out)
}

// membershipFailed writes err (forwarding to the leader when this node is
// a follower) and reports whether there was one.
func (rs clusterResource) membershipFailed(w http.ResponseWriter, r *http.Request, body []byte, reqID string, err error) bool {
	if err == nil {
		return false
	}
	if leader, ok := notLeader(err); ok {
		rs.h.forward(w, r, body, leader, reqID, "")
	} else {
		rs.h.writeError(w, r, err)
	}
	return true
}

// recordMember proposes the audit record of a membership change Raft has
// made. The change stands even when recording fails (it is logged); a
// retry with the same request id is recorded once.
func (rs clusterResource) recordMember(r *http.Request, cmd control.Command) uint64 {
	cmd.Actor, cmd.OnBehalfOf = identityOf(r).actor(r)
	ctx, cancel := context.WithTimeout(r.Context(), proposeTimeout)
	defer cancel()
	res, err := rs.h.b.Propose(ctx, cmd)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		rs.h.log.Warn("membership changed but its audit record failed", "action", cmd.Op, "node", cmd.Name,
			"request_id", cmd.RequestID, "err", err)
		return 0
	}
	rs.h.logChange(cmd, res, "")
	return res.Index
}

// checkNodeID checks a member id taken from the path.
func checkNodeID(id string) error { return peer.CheckNodeID(id) }
