package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/hashicorp/raft"
)

// JoinPath is where a member's API accepts join requests.
const JoinPath = "/v1/cluster/join"

// Join adds a node to the configuration (a voter unless req.NonVoter) and
// records its API and DNS addresses in the replicated member metadata.
// Joining again with the same id and address only refreshes the metadata.
func (n *Node) Join(ctx context.Context, req control.JoinRequest) error {
	if err := validateJoin(req); err != nil {
		return err
	}
	if err := n.checkLeader(); err != nil {
		return err
	}
	addr := raft.ServerAddress(req.RaftAddr)
	already := false
	for _, s := range n.configuration() {
		switch {
		case string(s.ID) == req.ID && s.Address == addr && (s.Suffrage == raft.Voter) == !req.NonVoter:
			already = true
		case string(s.ID) != req.ID && s.Address == addr:
			return control.Conflict("raft address %s is already used by member %s", addr, s.ID)
		}
	}
	if !already {
		var f raft.IndexFuture
		if req.NonVoter {
			f = n.raft.AddNonvoter(raft.ServerID(req.ID), addr, 0, timeoutOf(ctx))
		} else {
			f = n.raft.AddVoter(raft.ServerID(req.ID), addr, 0, timeoutOf(ctx))
		}
		if err := waitFuture(ctx, f); err != nil {
			return n.raftError(err)
		}
		n.log.Info("member added", "id", req.ID, "raft_addr", addr, "voter", !req.NonVoter)
	}
	m := Member{ID: req.ID, HTTPAddr: req.HTTPAddr, DNSAddr: req.DNSAddr}
	if have, ok := n.fsm.Members()[req.ID]; ok && have == m {
		return nil
	}
	return n.proposeMember(ctx, memberOp{Op: memberSet, Member: m})
}

// Remove takes a node out of the configuration and forgets its metadata.
// The removed node stops serving once it is out of the configuration or
// has not heard from a leader within MaxStale, whichever comes first.
func (n *Node) Remove(ctx context.Context, id string) error {
	if id == "" {
		return control.BadRequest("member id is required")
	}
	if err := n.checkLeader(); err != nil {
		return err
	}
	inConf := false
	for _, s := range n.configuration() {
		if string(s.ID) == id {
			inConf = true
		}
	}
	_, inMeta := n.fsm.Members()[id]
	if !inConf && !inMeta {
		return control.NotFound("member %s not found", id)
	}
	// Metadata first: once this leader removes itself it cannot commit.
	if id == n.cfg.NodeID {
		n.selfRemoved.Store(true)
	}
	if inMeta {
		if err := n.proposeMember(ctx, memberOp{Op: memberDelete, Member: Member{ID: id}}); err != nil {
			return err
		}
	}
	if inConf {
		if err := waitFuture(ctx, n.raft.RemoveServer(raft.ServerID(id), 0, timeoutOf(ctx))); err != nil {
			return n.raftError(err)
		}
		n.log.Info("member removed", "id", id)
	}
	return nil
}

func validateJoin(req control.JoinRequest) error {
	if req.ID == "" || len(req.ID) > 128 {
		return control.Invalid("join: id is required (at most 128 characters)")
	}
	if req.RaftAddr == "" || len(req.RaftAddr) > 256 || strings.ContainsAny(req.RaftAddr, " \t\r\n/") {
		return control.Invalid("join: raft_addr %q is not a host:port", req.RaftAddr)
	}
	if req.HTTPAddr != "" && !strings.HasPrefix(req.HTTPAddr, "http://") && !strings.HasPrefix(req.HTTPAddr, "https://") {
		return control.Invalid("join: http_addr %q must be an http:// or https:// URL", req.HTTPAddr)
	}
	return nil
}

func timeoutOf(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return DefaultApplyTimeout
}

func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// JoinCluster asks the member whose API is at memberHTTP to add the node
// described by req: POST {memberHTTP}/v1/cluster/join. It follows a 307 to
// the leader and retries with backoff (no leader, unreachable member) until
// it succeeds, the member refuses for good (a 4xx answer), or ctx ends.
func JoinCluster(ctx context.Context, memberHTTP string, req control.JoinRequest) error {
	return JoinClusterAuth(ctx, memberHTTP, "", req)
}

// JoinClusterAuth is JoinCluster against an API that requires a bearer
// token (sent again on the redirect to the leader).
func JoinClusterAuth(ctx context.Context, memberHTTP, token string, req control.JoinRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	url := strings.TrimRight(memberHTTP, "/") + JoinPath
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		// net/http drops the token on a redirect to another host; the
		// leader is another host of the same cluster.
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return nil
	}}
	backoff := 100 * time.Millisecond
	for {
		err := postJoin(ctx, client, url, token, body)
		var perm *permanentError
		if err == nil || errors.As(err, &perm) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("join %s: %w (last error: %v)", memberHTTP, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 3*time.Second)
	}
}

type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func postJoin(ctx context.Context, client *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &permanentError{err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return &permanentError{fmt.Sprintf("join %s: %s: %s", url, resp.Status, bytes.TrimSpace(msg))}
	default:
		return fmt.Errorf("join %s: %s: %s", url, resp.Status, bytes.TrimSpace(msg))
	}
}
