package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// sseMsg is one parsed Server-Sent Events block: a message or, with
// comment set, a comment.
type sseMsg struct {
	id, event, data, retry string
	comment                string
}

type sseStream struct {
	msgs   chan sseMsg
	cancel context.CancelFunc
	res    *http.Response
}

// openStream connects to path (extra headers in pairs) and parses blocks
// in the background.
func openStream(t *testing.T, e *env, path string, hdr ...string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("stream: status %d", res.StatusCode)
	}
	s := &sseStream{msgs: make(chan sseMsg, 100), cancel: cancel, res: res}
	t.Cleanup(s.close)
	go func() {
		defer close(s.msgs)
		sc := bufio.NewScanner(res.Body)
		var m sseMsg
		blank := true
		for sc.Scan() {
			line := sc.Text()
			if line == "" {
				if !blank {
					s.msgs <- m
				}
				m, blank = sseMsg{}, true
				continue
			}
			blank = false
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "":
				m.comment = v
			case "id":
				m.id = v
			case "event":
				m.event = v
			case "data":
				m.data += v
			case "retry":
				m.retry = v
			}
		}
	}()
	return s
}

func (s *sseStream) close() {
	s.cancel()
	s.res.Body.Close()
}

// next returns the next message that is not a comment.
func (s *sseStream) next(t *testing.T) sseMsg {
	t.Helper()
	for {
		m := s.nextAny(t)
		if m.comment == "" || m.id != "" || m.data != "" {
			return m
		}
	}
}

func (s *sseStream) nextAny(t *testing.T) sseMsg {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatal("the stream ended")
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no message on the stream")
	}
	return sseMsg{}
}

func TestEventStreamFraming(t *testing.T) {
	e, _ := newEventsEnv(t, Options{EventHeartbeat: 50 * time.Millisecond}, false)
	e.seed()
	s := openStream(t, e, "/v1/events/stream")
	if ct := s.res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	if first := s.nextAny(t); first.retry != "2000" {
		t.Fatalf("first block %+v", first)
	}
	for _, want := range []struct{ id, event, kind, name string }{
		{"1", "zone.put", "zone", "bg.example.com"}, {"2", "service.put", "service", "api.bg.example.com"},
	} {
		m := s.next(t)
		var ev Event
		if err := json.Unmarshal([]byte(m.data), &ev); err != nil {
			t.Fatalf("data %q: %v", m.data, err)
		}
		if m.id != want.id || m.event != want.event || ev.Kind != want.kind || ev.Name != want.name || ev.Action != want.event {
			t.Fatalf("message %+v / %+v, want %+v", m, ev, want)
		}
	}
	// idle: heartbeats are comments
	if m := s.nextAny(t); m.comment != "heartbeat" || m.id != "" {
		t.Fatalf("idle block %+v", m)
	}
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`, HeaderActor, "dev")
	e.mutation("POST", "/v1/services/api.bg.example.com/switch", "", HeaderActor, "ci")
	var got []string
	for len(got) < 2 {
		m := s.next(t)
		var ev Event
		if err := json.Unmarshal([]byte(m.data), &ev); err != nil {
			t.Fatal(err)
		}
		got = append(got, m.id+":"+m.event+":"+ev.Record.To+":"+ev.Record.Actor)
	}
	if !equalStrings(got, []string{"3:deploy:green:dev", "4:switch:green:ci"}) {
		t.Fatalf("live messages %v", got)
	}
}

// A client that reconnects with Last-Event-ID gets what came after it
// (the header wins over ?index=).
func TestEventStreamLastEventID(t *testing.T) {
	e, _ := newEventsEnv(t, Options{EventHeartbeat: time.Hour}, false)
	e.seed()
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	s := openStream(t, e, "/v1/events/stream?index=0&service=api.bg.example.com", "Last-Event-ID", "2")
	if m := s.next(t); m.id != "3" || m.event != "deploy" {
		t.Fatalf("resumed with %+v", m)
	}
	// the service filter holds on the stream
	e.mutation("PUT", "/v1/zones/other.test", `{"ns":["ns.example.net"]}`)
	e.mutation("POST", "/v1/services/api.bg.example.com/switch", "")
	if m := s.next(t); m.id != "5" || m.event != "switch" {
		t.Fatalf("filtered stream gave %+v", m)
	}
	r := e.do("GET", "/v1/events/stream", "", "Last-Event-ID", "three")
	if r.status != http.StatusBadRequest {
		t.Fatalf("bad Last-Event-ID: %d", r.status)
	}
}
