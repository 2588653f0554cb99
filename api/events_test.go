package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api/apitest"
	"github.com/bgdns/bgdns/control"
)

// hookedBackend signals each State() read on reads (when set), so a test
// knows that an events reader has looked at the state; without notify it
// hides Changed, as a backend that cannot tell of changes.
type hookedBackend struct {
	*apitest.Backend
	reads atomic.Pointer[chan struct{}]
}

func (b *hookedBackend) State() *control.State {
	st := b.Backend.State()
	if p := b.reads.Load(); p != nil {
		select {
		case *p <- struct{}{}:
		default:
		}
	}
	return st
}

type pollingBackend struct{ *hookedBackend }

// Changed is shadowed so that pollingBackend is no ChangeNotifier.
func (pollingBackend) Changed() {}

// newEventsEnv is an API without ACLs over b (hooked).
func newEventsEnv(t *testing.T, opts Options, polling bool) (*env, *hookedBackend) {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	hb := &hookedBackend{Backend: apitest.New()}
	var b Backend = hb
	if polling {
		b = pollingBackend{hb}
	}
	if _, ok := b.(ChangeNotifier); ok == polling {
		t.Fatalf("backend notifies: %v, want %v", ok, !polling)
	}
	srv := httptest.NewServer(NewHandler(b, opts))
	t.Cleanup(srv.Close)
	return &env{t: t, b: hb.Backend, srv: srv}, hb
}

type eventsResp struct {
	resp
	list EventList
	err  error
}

// getEvents runs GET path in the background.
func (e *env) getEvents(path string) <-chan eventsResp {
	out := make(chan eventsResp, 1)
	go func() {
		res, err := e.srv.Client().Get(e.srv.URL + path)
		if err != nil {
			out <- eventsResp{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		r := eventsResp{resp: resp{status: res.StatusCode, header: res.Header, body: b}, err: err}
		out <- r
	}()
	return out
}

func awaitEvents(t *testing.T, ch <-chan eventsResp) eventsResp {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		r.decode(t, &r.list)
		if h := r.header.Get(HeaderIndex); h != strconv.FormatUint(r.list.Index, 10) {
			t.Fatalf("%s %q, body index %d", HeaderIndex, h, r.list.Index)
		}
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no answer from the events query")
	}
	return eventsResp{}
}

func actions(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, strconv.FormatUint(e.Index, 10)+":"+e.Kind+":"+e.Name+":"+e.Action)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// An index older than the newest record answers at once (the wait is five
// minutes, far beyond the test's deadline), oldest first.
func TestEventsOldIndexAnswersAtOnce(t *testing.T) {
	e, _ := newEventsEnv(t, Options{}, false)
	e.seed() // zone at 1, service at 2
	r := awaitEvents(t, e.getEvents("/v1/events?index=1&wait=5m"))
	if got := actions(r.list.Events); !equalStrings(got, []string{"2:service:api.bg.example.com:service.put"}) {
		t.Fatalf("events %v", got)
	}
	if r.list.Index != 2 {
		t.Fatalf("index %d", r.list.Index)
	}
	// without an index: the newest records at once, newest last
	r = awaitEvents(t, e.getEvents("/v1/events?limit=1"))
	if got := actions(r.list.Events); !equalStrings(got, []string{"2:service:api.bg.example.com:service.put"}) || r.list.Index != 2 {
		t.Fatalf("tail %v index %d", got, r.list.Index)
	}
	r = awaitEvents(t, e.getEvents("/v1/events"))
	if got := actions(r.list.Events); !equalStrings(got, []string{"1:zone:bg.example.com:zone.put", "2:service:api.bg.example.com:service.put"}) {
		t.Fatalf("all %v", got)
	}
	// a limit cuts the page; the index says where the next starts
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	r = awaitEvents(t, e.getEvents("/v1/events?index=0&limit=5"))
	if len(r.list.Events) != 3 {
		t.Fatalf("index=0: %v", actions(r.list.Events))
	}
	r = awaitEvents(t, e.getEvents("/v1/events?index=1&limit=1"))
	if got := actions(r.list.Events); !equalStrings(got, []string{"2:service:api.bg.example.com:service.put"}) || r.list.Index != 2 {
		t.Fatalf("page %v index %d", got, r.list.Index)
	}
}

// A query for the current index waits, and a new record wakes it: the
// switch proposed after the reader saw the old state comes back.
func TestEventsWaitWakesOnNewRecord(t *testing.T) {
	for _, polling := range []bool{false, true} {
		t.Run(map[bool]string{false: "notified", true: "polling"}[polling], func(t *testing.T) {
			e, hb := newEventsEnv(t, Options{}, polling)
			e.seed()
			e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
			reads := make(chan struct{}, 1)
			hb.reads.Store(&reads)
			ch := e.getEvents("/v1/events?index=3&wait=5m")
			select {
			case <-reads: // the reader found nothing after 3 and waits
			case <-time.After(30 * time.Second):
				t.Fatal("the reader never read the state")
			}
			hb.reads.Store(nil)
			e.mutation("POST", "/v1/services/api.bg.example.com/switch", `{"reason":"tests passed"}`, HeaderActor, "ci")
			r := awaitEvents(t, ch)
			if got := actions(r.list.Events); !equalStrings(got, []string{"4:service:api.bg.example.com:switch"}) || r.list.Index != 4 {
				t.Fatalf("woken with %v index %d", got, r.list.Index)
			}
			rec := r.list.Events[0].Record
			if rec.From != "blue" || rec.To != "green" || rec.Version != "2.0" || rec.Actor != "ci" || rec.Reason != "tests passed" {
				t.Fatalf("switch record %+v", rec)
			}
		})
	}
}

// With nothing new the query ends after its wait with no records and the
// index it was given.
func TestEventsTimeoutReturnsSameIndex(t *testing.T) {
	e, _ := newEventsEnv(t, Options{}, false)
	e.seed()
	r := awaitEvents(t, e.getEvents("/v1/events?index=2&wait=300ms"))
	if len(r.list.Events) != 0 || r.list.Index != 2 || string(r.body) == "" {
		t.Fatalf("timeout: %s", r.body)
	}
	// an index ahead of this node (read from another) is kept too
	r = awaitEvents(t, e.getEvents("/v1/events?index=9&wait=1"))
	if len(r.list.Events) != 0 || r.list.Index != 9 {
		t.Fatalf("ahead: %s", r.body)
	}
}

func TestEventsBadQueries(t *testing.T) {
	e, _ := newEventsEnv(t, Options{}, false)
	for _, q := range []string{"index=x", "index=-1", "wait=soon", "wait=-3s", "wait=0", "limit=0", "limit=x", "service=a..b"} {
		r := e.do("GET", "/v1/events?"+q, "")
		if r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d %s", q, r.status, r.body)
		}
		errorOf(t, r)
	}
}

// A scoped token sees the records of its services and of the zones it
// reaches into; no member or token records, nor other services.
func TestEventsScopedToken(t *testing.T) {
	a := newACLEnv(t, Options{})
	a.seed2(bearer(a.admin)) // tokens before: bootstrap at 1
	_, ci := a.token("ci", "read", "api.*.example.com")
	r := a.must(http.StatusOK, "GET", "/v1/events?limit=1000", "", bearer(ci)...)
	var l EventList
	r.decode(t, &l)
	want := []string{"2:zone:bg.example.com:zone.put", "4:service:api.bg.example.com:service.put"}
	if got := actions(l.Events); !equalStrings(got, want) {
		t.Fatalf("scoped events %v, want %v", got, want)
	}
	if l.Index != a.b.State().Index() {
		t.Fatalf("index %d, state at %d", l.Index, a.b.State().Index())
	}
	errorOf(t, a.must(http.StatusForbidden, "GET", "/v1/events?service=web.bg.example.com", "", bearer(ci)...))
	a.must(http.StatusOK, "GET", "/v1/events?service=api.bg.example.com", "", bearer(ci)...).decode(t, &l)
	if got := actions(l.Events); !equalStrings(got, want[1:]) {
		t.Fatalf("service filter %v", got)
	}
	// the unscoped admin sees every kind
	a.must(http.StatusOK, "GET", "/v1/events", "", bearer(a.admin)...).decode(t, &l)
	kinds := map[string]bool{}
	for _, e := range l.Events {
		kinds[e.Kind] = true
	}
	if !kinds["token"] || !kinds["zone"] || !kinds["service"] {
		t.Fatalf("admin sees %v", actions(l.Events))
	}
	a.must(http.StatusUnauthorized, "GET", "/v1/events", "")
	a.must(http.StatusUnauthorized, "GET", "/v1/events/stream", "")
	a.checkNoSecretLeaked()
}

// The server's read and write timeouts do not cut a wait longer than
// both.
func TestEventsOutlastServerTimeouts(t *testing.T) {
	b := apitest.New()
	h := NewHandler(b, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), EventHeartbeat: time.Hour})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	e := &env{t: t, b: b, srv: srv}
	e.seed()
	r := awaitEvents(t, e.getEvents("/v1/events?index=2&wait=900ms"))
	if r.list.Index != 2 || len(r.list.Events) != 0 {
		t.Fatalf("long wait: %s", r.body)
	}
	// a stream idle for longer than both still delivers
	s := openStream(t, e, "/v1/events/stream?index=2")
	time.Sleep(700 * time.Millisecond) // idle past both timeouts; nothing asserted on time
	e.mutation("POST", "/v1/services/api.bg.example.com/deploy", `{"version":"2.0","addresses":["10.0.0.21"]}`)
	if m := s.next(t); m.id != "3" || m.event != "deploy" {
		t.Fatalf("after idling: %+v", m)
	}
}

// Past MaxWatchers, a reader is told to come back later.
func TestEventsWatcherCap(t *testing.T) {
	e, _ := newEventsEnv(t, Options{MaxWatchers: 1}, false)
	e.seed()
	s := openStream(t, e, "/v1/events/stream?index=2")
	r := e.do("GET", "/v1/events?index=2&wait=1s", "")
	if r.status != http.StatusServiceUnavailable || errorOf(t, r).Code != string(CodeBusy) || r.header.Get("Retry-After") == "" {
		t.Fatalf("second reader: %d %s", r.status, r.body)
	}
	s.close()
	// the slot is free again once the stream ends
	ok := false
	for range 100 {
		if r := e.do("GET", "/v1/events?index=1&wait=1s", ""); r.status == http.StatusOK {
			ok = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ok {
		t.Fatal("the slot was not released")
	}
}
