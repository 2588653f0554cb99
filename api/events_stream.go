package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const (
	// MaxStreamLife ends an event stream after this long; the client
	// reconnects with Last-Event-ID and misses nothing.
	MaxStreamLife = 10 * time.Minute
	// streamRetry is the reconnection delay an SSE client is told (ms).
	streamRetry = 2000
	// streamWriteTimeout bounds one write to a stream's client.
	streamWriteTimeout = 10 * time.Second
)

// stream is GET /v1/events/stream: the events feed as Server-Sent Events
// (id: the record's index, event: its action, data: the Event as JSON),
// starting after Last-Event-ID or ?index= (none: the newest ?limit=
// records), with a comment every heartbeat while idle.
func (rs *eventsResource) stream(w http.ResponseWriter, r *http.Request) {
	eq, err := rs.parse(r, strings.TrimSpace(r.Header.Get("Last-Event-ID")))
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	if !rs.acquire(w, r) {
		return
	}
	defer rs.release()
	rc := http.NewResponseController(w)
	// The stream outlives the server's timeouts: reads are bounded by its
	// life, each write by streamWriteTimeout.
	_ = rc.SetReadDeadline(time.Now().Add(MaxStreamLife + deadlineGrace))
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	hd.Set("X-Content-Type-Options", "nosniff")
	sw := &sseWriter{w: w, rc: rc}
	w.WriteHeader(http.StatusOK)
	sw.printf("retry: %d\n: bgdns events\n\n", streamRetry)
	if sw.flush() != nil {
		return
	}
	life := time.NewTimer(MaxStreamLife)
	defer life.Stop()
	beat := time.NewTicker(rs.h.opts.EventHeartbeat)
	defer beat.Stop()
	q := eq.q
	for {
		ch, stop := rs.changed()
		st := rs.h.b.State()
		evs := st.Events(q)
		for _, e := range evs {
			sw.event(toEvent(e))
		}
		if len(evs) > 0 {
			if sw.flush() != nil {
				stop()
				return
			}
			beat.Reset(rs.h.opts.EventHeartbeat)
		}
		full := len(evs) == q.Limit && !q.Newest
		q.After = nextIndex(q, st, evs)
		q.Newest = false
		if full {
			stop()
			continue // more records wait: page on at once
		}
		select {
		case <-r.Context().Done():
			stop()
			return
		case <-life.C:
			stop()
			return
		case <-rs.closing:
			stop()
			return
		case <-beat.C:
			stop()
			sw.printf(": heartbeat\n\n")
			if sw.flush() != nil {
				return
			}
		case <-ch:
			stop()
		}
	}
}

// sseWriter frames Server-Sent Events, keeping the first write error.
type sseWriter struct {
	w   io.Writer
	rc  *http.ResponseController
	err error
}

func (s *sseWriter) printf(format string, a ...any) {
	if s.err != nil {
		return
	}
	if s.rc != nil {
		_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	}
	_, s.err = fmt.Fprintf(s.w, format, a...)
}

// event writes e as one SSE message. The JSON holds no newline, so it is
// one data line; the action is a word of [a-z.] (an Op).
func (s *sseWriter) event(e Event) {
	b, err := json.Marshal(e)
	if err != nil {
		s.err = err
		return
	}
	s.printf("id: %d\nevent: %s\ndata: %s\n\n", e.Index, sseField(e.Action), b)
}

func (s *sseWriter) flush() error {
	if s.err == nil && s.rc != nil {
		_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		s.err = s.rc.Flush()
	}
	return s.err
}

// sseField keeps a field value on one line.
func sseField(v string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, v)
}
