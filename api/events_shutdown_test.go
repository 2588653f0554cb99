package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api/apitest"
)

// A graceful shutdown ends the blocking queries (with their answer) and
// the streams at once, instead of waiting for them until its deadline.
func TestShutdownEndsEventReaders(t *testing.T) {
	hb := &hookedBackend{Backend: apitest.New()}
	b := hb.Backend
	srv := NewServer("", NewHandler(hb, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	ts := httptest.NewUnstartedServer(nil)
	ts.Config = srv
	ts.Start()
	t.Cleanup(ts.Close)
	e := &env{t: t, b: b, srv: ts}
	e.seed()
	reads := make(chan struct{}, 10)
	hb.reads.Store(&reads)
	s := openStream(t, e, "/v1/events/stream?index=2")
	blocked := e.getEvents("/v1/events?index=2&wait=5m")
	for range 2 { // both readers have looked at the state and wait
		select {
		case <-reads:
		case <-time.After(30 * time.Second):
			t.Fatal("the readers did not start")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown waited for the readers: %v", err)
	}
	r := awaitEvents(t, blocked)
	if r.list.Index != 2 || len(r.list.Events) != 0 {
		t.Fatalf("the blocking query answered %s", r.body)
	}
	for m := range s.msgs {
		if m.id != "" {
			t.Fatalf("stream sent %+v after the shutdown", m)
		}
	}
	if _, err := http.Get(e.srv.URL + "/healthz"); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("the server still answers: %v", err)
	}
}
