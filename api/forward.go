package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bgdns/bgdns/control"
)

// maxForwardResponse bounds a leader's response copied back to the client.
const maxForwardResponse = 16 << 20

// hopHeaders are not passed on by a proxy (RFC 9110 §7.6.1).
var hopHeaders = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// notLeader reports whether err says this node is a follower, and the
// leader's API address.
func notLeader(err error) (string, bool) {
	var e *control.Error
	if errors.As(err, &e) && e.Code == control.CodeNotLeader {
		return e.Leader, true
	}
	return "", false
}

// forwardTimeout bounds a forwarded request: a few seconds (a client's
// patience, well under it), or the wait it asked for plus that margin.
func (h *handler) forwardTimeout(r *http.Request, body []byte) time.Duration {
	var in struct {
		Wait string `json:"wait"`
	}
	_ = json.Unmarshal(body, &in)
	if wait, d, err := h.waitParams(r, in.Wait); err == nil && wait {
		return d + h.opts.ForwardTimeout
	}
	return h.opts.ForwardTimeout
}

// forward sends the request, with the body already read, to the leader and
// copies its answer back. A request that was forwarded once is never
// forwarded again: it gets 503 no_leader, so two nodes that disagree about
// the leader cannot bounce it between them.
func (h *handler) forward(w http.ResponseWriter, r *http.Request, body []byte, leader, reqID, act string) {
	if r.Header.Get(HeaderForwarded) != "" {
		h.writeError(w, r, &control.Error{Code: control.CodeNoLeader,
			Message: "this node is not the leader and the request was already forwarded once", Leader: leader})
		return
	}
	if leader != "" && !strings.Contains(leader, "://") {
		leader = "http://" + leader // a member that joined with host:port
	}
	base, err := url.Parse(leader)
	if leader == "" || err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		h.writeError(w, r, &control.Error{Code: control.CodeNoLeader, Message: "this node is not the leader and the leader's address is not known"})
		return
	}
	target := *base
	target.Path = r.URL.Path
	target.RawPath = r.URL.RawPath
	target.RawQuery = r.URL.RawQuery
	ctx, cancel := context.WithTimeout(r.Context(), h.forwardTimeout(r, body))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		h.writeError(w, r, &control.Error{Code: control.CodeNoLeader, Message: "building the request to the leader: " + err.Error()})
		return
	}
	req.Header = r.Header.Clone()
	for _, k := range hopHeaders {
		req.Header.Del(k)
	}
	req.Header.Del("Content-Length")
	req.Header.Set(HeaderForwarded, "1")
	if reqID != "" {
		req.Header.Set(HeaderRequestID, reqID)
	}
	if act != "" {
		req.Header.Set(HeaderActor, act)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
			host = prior + ", " + host
		}
		req.Header.Set("X-Forwarded-For", host)
	}
	resp, err := h.opts.ForwardClient.Do(req)
	if err != nil {
		h.log.Warn("forwarding to the leader failed", "leader", leader, "path", r.URL.Path, "err", err)
		h.writeError(w, r, &control.Error{Code: control.CodeNoLeader, Leader: leader,
			Message: "the leader at " + leader + " did not answer (a write may or may not have been committed; retry with the same request_id): " + err.Error()})
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = append([]string(nil), vs...)
	}
	for _, k := range hopHeaders {
		w.Header().Del(k)
	}
	w.Header().Del("Content-Length")
	w.Header().Set("X-Bgdns-Leader", leader)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, maxForwardResponse))
}
