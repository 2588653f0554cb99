package peer

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestJoinClusterFollowsRedirectAndRetries(t *testing.T) {
	var calls atomic.Int32
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "token lost", http.StatusUnauthorized)
			return
		}
		var req JoinRequest
		if r.Method != http.MethodPost || r.URL.Path != JoinPath || json.NewDecoder(r.Body).Decode(&req) != nil || req.ID != "n2" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if calls.Add(1) == 1 {
			http.Error(w, `{"error":{"code":"no_leader"}}`, http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer leader.Close()
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, leader.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer follower.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := JoinRequest{ID: "n2", RaftAddr: "127.0.0.1:7001", HTTPAddr: "http://127.0.0.1:8001"}
	if err := New(nil, "s3cret").Join(ctx, follower.URL, req); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("leader saw %d joins, want 2 (one 503, one success)", calls.Load())
	}
}

func TestJoinClusterStopsOnPermanentError(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusUnprocessableEntity)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := New(nil, "").Join(ctx, srv.URL, JoinRequest{ID: "n2"})
	if err == nil || calls.Load() != 1 {
		t.Errorf("err %v after %d calls, want an error after 1", err, calls.Load())
	}
}
