package api

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/bgdns/bgdns/control"
)

// The events feed: GET /v1/events is a blocking query, GET
// /v1/events/stream the same as Server-Sent Events (events_stream.go).
const (
	// HeaderIndex carries the index to pass as ?index= next.
	HeaderIndex = "X-Bgdns-Index"
	// DefaultEventWait is how long a blocking query waits when it names
	// no wait; MaxEventWait caps a requested one.
	DefaultEventWait = 60 * time.Second
	MaxEventWait     = 5 * time.Minute
	// DefaultEventLimit and MaxEventLimit bound the records of one answer.
	DefaultEventLimit = 100
	MaxEventLimit     = control.MaxHistory
	// DefaultMaxWatchers and DefaultEventHeartbeat are the defaults of
	// Options.MaxWatchers and Options.EventHeartbeat.
	DefaultMaxWatchers    = 256
	DefaultEventHeartbeat = 15 * time.Second
	// eventPoll is how often a Backend that cannot notify is read again.
	eventPoll = 250 * time.Millisecond
	// deadlineGrace is added to a wait for the connection's deadlines.
	deadlineGrace = 10 * time.Second
)

// CodeBusy: the node serves as many event readers as it allows.
const CodeBusy control.Code = "busy"

// ChangeNotifier is implemented by a Backend that can tell when its state
// changes (cluster.Node does): Changed returns a channel closed at the next
// change. Without it, blocking queries read the state every 250ms.
type ChangeNotifier interface {
	Changed() <-chan struct{}
}

// Event is one record of the events feed.
type Event struct {
	// Index is the record's Raft index (the SSE id).
	Index uint64 `json:"index"`
	// Kind says what the record is about: service, zone, member or token.
	Kind string `json:"kind"`
	// Name is the service or zone (no trailing dot), node id or token id.
	Name string `json:"name"`
	// Action is the record's action (the SSE event type).
	Action string         `json:"action"`
	Record control.Record `json:"record"`
}

// EventList is GET /v1/events: the records after the index asked for,
// oldest first, and the index to ask for next (also in X-Bgdns-Index).
type EventList struct {
	Index  uint64  `json:"index"`
	Events []Event `json:"events"`
}

func toEvent(e control.Event) Event {
	name := e.Name
	if e.Kind == control.EventService || e.Kind == control.EventZone {
		name = bare(name)
	}
	return Event{Index: e.Record.Index, Kind: e.Kind, Name: name, Action: string(e.Record.Action), Record: e.Record}
}

// eventsResource serves /v1/events.
type eventsResource struct {
	h        *handler
	watchers chan struct{} // a slot per reader served
	// closing ends every reader at once: the server shuts down.
	closing   chan struct{}
	closeOnce sync.Once
}

func newEventsResource(h *handler) *eventsResource {
	return &eventsResource{h: h, watchers: make(chan struct{}, h.opts.MaxWatchers), closing: make(chan struct{})}
}

// close ends the waits of every reader, now and later.
func (rs *eventsResource) close() { rs.closeOnce.Do(func() { close(rs.closing) }) }

func (rs *eventsResource) Routes() chi.Router {
	r := chi.NewRouter()
	r.Get("/", rs.list)
	r.Get("/stream", rs.stream)
	return r
}

// acquire takes a reader's slot, or answers 503 and reports false.
func (rs *eventsResource) acquire(w http.ResponseWriter, r *http.Request) bool {
	select {
	case rs.watchers <- struct{}{}:
		return true
	default:
		w.Header().Set("Retry-After", "5")
		rs.h.writeError(w, r, &control.Error{Code: CodeBusy,
			Message: "this node serves " + strconv.Itoa(cap(rs.watchers)) + " event readers already; retry later"})
		return false
	}
}

func (rs *eventsResource) release() { <-rs.watchers }

// eventQuery is a parsed events request.
type eventQuery struct {
	q    control.EventQuery
	wait time.Duration
}

// parse reads ?index=, ?wait=, ?limit= and ?service=, and the scope of the
// request's token. lastID, when set, is an SSE Last-Event-ID that takes
// the place of ?index=.
func (rs *eventsResource) parse(r *http.Request, lastID string) (eventQuery, error) {
	v := r.URL.Query()
	eq := eventQuery{wait: DefaultEventWait, q: control.EventQuery{Limit: DefaultEventLimit}}
	idx := v.Get("index")
	if lastID != "" {
		idx = lastID
	}
	if idx != "" {
		n, err := strconv.ParseUint(idx, 10, 64)
		if err != nil {
			return eq, badRequest("index %q is not a log index", idx)
		}
		eq.q.After = n
	}
	eq.q.Newest = eq.q.After == 0
	if s := v.Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			n, nerr := strconv.Atoi(s)
			if nerr != nil {
				return eq, badRequest("wait %q is not a duration (30s, 5m)", s)
			}
			d = time.Duration(n) * time.Second
		}
		if d <= 0 {
			return eq, badRequest("wait %q must be positive", s)
		}
		eq.wait = min(d, MaxEventWait)
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return eq, badRequest("limit %q is not a positive number", s)
		}
		eq.q.Limit = min(n, MaxEventLimit)
	}
	id := identityOf(r)
	if s := v.Get("service"); s != "" {
		n, err := control.CanonicalName(s)
		if err != nil {
			return eq, err
		}
		if !id.sees(n, false) {
			return eq, forbidden("%s is outside the scope of token %q", bare(n), id.name)
		}
		eq.q.Service = n
	}
	eq.q.Keep = visibleEvent(id)
	return eq, nil
}

// visibleEvent is what a scoped token sees of the feed: the records of the
// services in its scope and, as in /v1/audit, the changes of the zones its
// scope reaches into; no member or token records. nil: everything.
func visibleEvent(id identity) func(control.Event) bool {
	if len(id.scope) == 0 {
		return nil
	}
	return func(e control.Event) bool {
		if e.Kind == control.EventService {
			return id.sees(e.Name, false)
		}
		return isZoneOp(e.Record.Action) && id.sees(e.Name, true)
	}
}

// changed returns a channel closed at the next change of the backend's
// state, or, for a backend that cannot tell, when it is worth reading
// again; stop releases what it holds.
func (rs *eventsResource) changed() (ch <-chan struct{}, stop func()) {
	if n, ok := rs.h.b.(ChangeNotifier); ok {
		return n.Changed(), func() {}
	}
	t := time.NewTimer(eventPoll)
	c := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-t.C:
			close(c)
		case <-done:
			t.Stop()
		}
	}()
	return c, func() { close(done) }
}

// next returns the events of q, waiting until ctx ends for one when q
// names an index and none is newer; and the index to ask for next.
func (rs *eventsResource) next(ctx context.Context, q control.EventQuery) ([]control.Event, uint64) {
	for {
		ch, stop := rs.changed()
		st := rs.h.b.State()
		evs := st.Events(q)
		if len(evs) > 0 || q.After == 0 {
			stop()
			return evs, nextIndex(q, st, evs)
		}
		select {
		case <-ctx.Done():
			stop()
			return nil, max(q.After, st.Index())
		case <-rs.closing:
			stop()
			return nil, max(q.After, st.Index())
		case <-ch:
			stop()
		}
	}
}

// nextIndex is the index after evs, read from st for q: the last record's
// when the limit cut the list (more follow), else st's own index (every
// record up to it is in st), never below the one asked for.
func nextIndex(q control.EventQuery, st *control.State, evs []control.Event) uint64 {
	if n := len(evs); n == q.Limit && !q.Newest {
		return max(q.After, evs[n-1].Record.Index)
	}
	idx := max(q.After, st.Index())
	if n := len(evs); n > 0 {
		idx = max(idx, evs[n-1].Record.Index)
	}
	return idx
}

// extendDeadlines lets a response that waits d outlast the server's
// read and write timeouts (the request itself has been read by then).
func extendDeadlines(w http.ResponseWriter, d time.Duration) {
	rc := http.NewResponseController(w)
	at := time.Now().Add(d + deadlineGrace)
	_ = rc.SetReadDeadline(at)
	_ = rc.SetWriteDeadline(at)
}

// list is GET /v1/events?index=N&wait=30s[&service=S][&limit=L]: without
// an index (or 0) the newest records at once; with one, the records
// after it, oldest first, waiting up to wait for one.
func (rs *eventsResource) list(w http.ResponseWriter, r *http.Request) {
	eq, err := rs.parse(r, "")
	if err != nil {
		rs.h.writeError(w, r, err)
		return
	}
	if !rs.acquire(w, r) {
		return
	}
	defer rs.release()
	extendDeadlines(w, eq.wait)
	ctx, cancel := context.WithTimeout(r.Context(), eq.wait)
	defer cancel()
	evs, idx := rs.next(ctx, eq.q)
	out := EventList{Index: idx, Events: make([]Event, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, toEvent(e))
	}
	w.Header().Set(HeaderIndex, strconv.FormatUint(idx, 10))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
