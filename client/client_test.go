package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bgdns/bgdns/api"
)

// closedURL returns the URL of a port nobody listens on: connection refused.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// recorder is a test server that records every request it gets.
type recorder struct {
	mu    sync.Mutex
	ids   []string // X-Request-Id of each request
	bids  []string // request_id of each body
	srv   *httptest.Server
	reply func(n int, w http.ResponseWriter) // n counts from 1
}

func newRecorder(t *testing.T, reply func(n int, w http.ResponseWriter)) *recorder {
	r := &recorder{reply: reply}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m struct {
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal(b, &m)
		r.mu.Lock()
		r.ids = append(r.ids, req.Header.Get(api.HeaderRequestID))
		r.bids = append(r.bids, m.RequestID)
		n := len(r.ids)
		r.mu.Unlock()
		r.reply(n, w)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) seen() (ids, bodyIDs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...), append([]string(nil), r.bids...)
}

func writeJSON(w http.ResponseWriter, status int, v string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, v)
}

const noLeader = `{"error":{"code":"no_leader","message":"no leader"}}`

func okMutation(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, `{"index":7,"service":{"name":"api.bg.example.com","active":"green","revision":7}}`)
}

// fakeClock makes the client's sleeps instant and records them.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func (f *fakeClock) install(c *Client) {
	f.t = time.Unix(1_000_000, 0)
	c.now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
	c.sleep = func(_ context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.sleeps = append(f.sleeps, d)
		f.t = f.t.Add(d)
		return nil
	}
}

func newClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNextServerOnConnectionRefused(t *testing.T) {
	b := newRecorder(t, func(_ int, w http.ResponseWriter) { okMutation(w) })
	c := newClient(t, Config{Servers: []string{closedURL(t), b.srv.URL}})
	var fc fakeClock
	fc.install(c)
	m, _, err := c.Switch(context.Background(), "api.bg.example.com", api.SwitchRequest{}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Index != 7 || m.Service.Active != "green" {
		t.Fatalf("mutation %+v", m)
	}
	ids, bids := b.seen()
	if len(ids) != 1 || len(ids[0]) != 32 || bids[0] != ids[0] {
		t.Fatalf("second server saw request ids %q (header) %q (body): want one generated id, the same in both", ids, bids)
	}
	if len(fc.sleeps) != 1 {
		t.Fatalf("slept %v, want once between the two servers", fc.sleeps)
	}
	if c.Server() != b.srv.URL {
		t.Fatalf("current server %s, want the one that answered (%s)", c.Server(), b.srv.URL)
	}
	// The next call goes straight to the server that answered.
	if _, _, err := c.Rollback(context.Background(), "api.bg.example.com", api.ActionRequest{}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(fc.sleeps) != 1 {
		t.Fatalf("the second call retried: sleeps %v", fc.sleeps)
	}
}

func TestRetry503ResendsTheSameRequestID(t *testing.T) {
	a := newRecorder(t, func(_ int, w http.ResponseWriter) { writeJSON(w, http.StatusServiceUnavailable, noLeader) })
	b := newRecorder(t, func(n int, w http.ResponseWriter) {
		if n < 2 {
			writeJSON(w, http.StatusServiceUnavailable, noLeader)
			return
		}
		okMutation(w)
	})
	c := newClient(t, Config{Servers: []string{a.srv.URL, b.srv.URL}})
	var fc fakeClock
	fc.install(c)
	_, _, err := c.Deploy(context.Background(), "api.bg.example.com",
		api.DeployRequest{RequestMeta: api.RequestMeta{RequestID: "ci-run-42"}, Version: "2", Addresses: []string{"10.0.0.2"}}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	aids, abids := a.seen()
	bids, bbids := b.seen()
	// a, b (503), a, b (200)
	if len(aids) != 2 || len(bids) != 2 {
		t.Fatalf("attempts: %d on the first server, %d on the second; want 2 and 2", len(aids), len(bids))
	}
	for _, id := range append(append(append(aids, abids...), bids...), bbids...) {
		if id != "ci-run-42" {
			t.Fatalf("a retry carried request id %q, want ci-run-42 every time (%q %q %q %q)", id, aids, abids, bids, bbids)
		}
	}
}

func TestGeneratedRequestIDIsStableAcrossRetries(t *testing.T) {
	a := newRecorder(t, func(n int, w http.ResponseWriter) {
		if n < 3 {
			writeJSON(w, http.StatusServiceUnavailable, noLeader)
			return
		}
		okMutation(w)
	})
	c := newClient(t, Config{Servers: []string{a.srv.URL}})
	var fc fakeClock
	fc.install(c)
	resp, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/v1/services/x/rollback"})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := a.seen()
	if len(ids) != 3 || ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] || resp.RequestID != ids[0] {
		t.Fatalf("request ids %q, response %q: want one generated id on all three attempts", ids, resp.RequestID)
	}
	// Reads carry none.
	if _, err := c.Get(context.Background(), "/v1/services", nil, nil); err != nil {
		t.Fatal(err)
	}
	if ids, _ := a.seen(); ids[3] != "" {
		t.Fatalf("a GET carried request id %q", ids[3])
	}
}

func TestBackoffIsCappedAndStopsAtRetryFor(t *testing.T) {
	a := newRecorder(t, func(_ int, w http.ResponseWriter) { writeJSON(w, http.StatusServiceUnavailable, noLeader) })
	const retryFor, capD = 20 * time.Second, 800 * time.Millisecond
	c := newClient(t, Config{Servers: []string{a.srv.URL}, RetryFor: retryFor, RetryInitial: 100 * time.Millisecond, RetryMax: capD})
	var fc fakeClock
	fc.install(c)
	_, err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/v1/services/x/switch", RequestID: "r1"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ExitCode(err) != ExitUnavailable || RequestID(err) != "r1" {
		t.Fatalf("err %v (exit %d, request id %q): want the last 503, exit %d, request id r1", err, ExitCode(err), RequestID(err), ExitUnavailable)
	}
	var total time.Duration
	for i, d := range fc.sleeps {
		if d <= 0 || d > capD {
			t.Fatalf("sleep %d is %v: want within (0, %v]; all: %v", i, d, capD, fc.sleeps)
		}
		total += d
	}
	if total > retryFor {
		t.Fatalf("slept %v in all, more than retry-for %v", total, retryFor)
	}
	// Exponential: the first sleeps are short, and it reaches the cap.
	if len(fc.sleeps) < 10 || fc.sleeps[0] > 150*time.Millisecond || fc.sleeps[len(fc.sleeps)-1] < capD/2 {
		t.Fatalf("sleeps %v: want growing from ~100ms to the cap", fc.sleeps)
	}
	ids, _ := a.seen()
	if len(ids) != len(fc.sleeps)+1 {
		t.Fatalf("%d attempts for %d sleeps", len(ids), len(fc.sleeps))
	}
}

func TestGiveUpAfterRetryForUnreachable(t *testing.T) {
	servers := []string{closedURL(t), closedURL(t)}
	c := newClient(t, Config{Servers: servers, RetryFor: 700 * time.Millisecond, RetryInitial: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond})
	_, _, err := c.Complete(context.Background(), "api.bg.example.com", api.ActionRequest{RequestMeta: api.RequestMeta{RequestID: "done-1"}}, WriteOptions{})
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("err %T %v: want *UnavailableError", err, err)
	}
	if ExitCode(err) != ExitUnavailable || RequestID(err) != "done-1" || ue.Attempts < 2 {
		t.Fatalf("exit %d, request id %q, %d attempts: want %d, done-1, several", ExitCode(err), RequestID(err), ue.Attempts, ExitUnavailable)
	}
	for _, s := range servers {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not name %s", err, s)
		}
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %q does not say why", err)
	}
}

func TestRefusalsAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		exit   int
	}{
		{http.StatusConflict, `{"error":{"code":"conflict","message":"revision is 2, not the expected 1","service":{"name":"api","active":"blue","state":"stable","revision":2}}}`, ExitPrecondition},
		{http.StatusNotFound, `{"error":{"code":"not_found","message":"service x not found"}}`, ExitRefused},
		{http.StatusForbidden, `{"error":{"code":"forbidden","message":"no"}}`, ExitRefused},
		{http.StatusUnauthorized, `{"error":{"code":"unauthorized","message":"token"}}`, ExitRefused},
		{http.StatusInternalServerError, `oops`, ExitRefused},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			a := newRecorder(t, func(_ int, w http.ResponseWriter) { writeJSON(w, tc.status, tc.body) })
			b := newRecorder(t, func(_ int, w http.ResponseWriter) { okMutation(w) })
			c := newClient(t, Config{Servers: []string{a.srv.URL, b.srv.URL}})
			var fc fakeClock
			fc.install(c)
			_, _, err := c.Switch(context.Background(), "api", api.SwitchRequest{}, WriteOptions{})
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != tc.status || ExitCode(err) != tc.exit {
				t.Fatalf("err %v (exit %d): want status %d, exit %d", err, ExitCode(err), tc.status, tc.exit)
			}
			if ids, _ := b.seen(); len(ids) != 0 || len(fc.sleeps) != 0 {
				t.Fatalf("retried a %d: %d calls to the other server, sleeps %v", tc.status, len(ids), fc.sleeps)
			}
			if ae.RequestID == "" || ae.Server != a.srv.URL {
				t.Fatalf("error %+v lacks its request id or server", ae)
			}
		})
	}
}

func TestIncompleteWaitIsExit3NotRetried(t *testing.T) {
	a := newRecorder(t, func(_ int, w http.ResponseWriter) {
		writeJSON(w, http.StatusGatewayTimeout, `{"index":9,"service":{"name":"api","active":"green"},"wait":{"complete":false,"index":9,"lagging":["n3"]}}`)
	})
	b := newRecorder(t, func(_ int, w http.ResponseWriter) { okMutation(w) })
	c := newClient(t, Config{Servers: []string{a.srv.URL, b.srv.URL}})
	m, raw, err := c.Switch(context.Background(), "api", api.SwitchRequest{}, WriteOptions{Wait: true, WaitTimeout: time.Second})
	var we *WaitError
	if !errors.As(err, &we) || ExitCode(err) != ExitWaitTimeout || m == nil || m.Index != 9 || len(raw) == 0 {
		t.Fatalf("err %v (exit %d), mutation %+v: want a *WaitError, exit 3, the mutation", err, ExitCode(err), m)
	}
	if !strings.Contains(err.Error(), "n3") {
		t.Fatalf("%q does not name the lagging node", err)
	}
	if ids, _ := b.seen(); len(ids) != 0 {
		t.Fatal("an incomplete wait was retried on another server")
	}
}

func TestUntrustedCertificateIsNotRetried(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { okMutation(w) }))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	c := newClient(t, Config{Servers: []string{tlsSrv.URL}})
	var fc fakeClock
	fc.install(c)
	_, err := c.Get(context.Background(), "/v1/services", nil, nil)
	if err == nil || len(fc.sleeps) != 0 {
		t.Fatalf("err %v, sleeps %v: want a certificate error at once", err, fc.sleeps)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("err %q does not say certificate", err)
	}
}

func TestAnswerSizeIsBounded(t *testing.T) {
	a := newRecorder(t, func(_ int, w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, `{"services":["`+strings.Repeat("x", 2000)+`"]}`)
	})
	c := newClient(t, Config{Servers: []string{a.srv.URL}, MaxResponse: 1000})
	if _, err := c.Get(context.Background(), "/v1/services", nil, nil); err == nil || !strings.Contains(err.Error(), "larger than 1000 bytes") {
		t.Fatalf("err %v: want the answer refused as too large", err)
	}
}

func TestTokenAndActorHeaders(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		mu.Unlock()
		okMutation(w)
	}))
	defer srv.Close()
	c := newClient(t, Config{Servers: []string{strings.TrimPrefix(srv.URL, "http://")}, Token: "s3cret", Actor: "ci"})
	if _, _, err := c.Rollback(context.Background(), "api", api.ActionRequest{}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), "/v1/services", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got[0].Get("Authorization") != "Bearer s3cret" || got[0].Get(api.HeaderActor) != "ci" || got[0].Get("Content-Type") != "application/json" {
		t.Fatalf("write headers %v", got[0])
	}
	if got[1].Get("Authorization") != "Bearer s3cret" || got[1].Get(api.HeaderActor) != "" {
		t.Fatalf("read headers %v", got[1])
	}
}

func TestParseServers(t *testing.T) {
	got, err := ParseServers(" 127.0.0.1:8053, https://n2.example:8053/ ,,http://[::1]:9")
	if err != nil || strings.Join(got, " ") != "http://127.0.0.1:8053 https://n2.example:8053 http://[::1]:9" {
		t.Fatalf("%q %v", got, err)
	}
	if got, err := ParseServers(""); err != nil || len(got) != 1 || got[0] != DefaultServer {
		t.Fatalf("empty: %q %v", got, err)
	}
	for _, bad := range []string{"ftp://x:1", "http://", "http://x:1/v1"} {
		if _, err := ParseServers(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("bad flag"), ExitLocal},
		{&APIError{Status: 400}, ExitRefused},
		{&APIError{Status: 404}, ExitRefused},
		{&APIError{Status: 422}, ExitRefused},
		{&APIError{Status: 409}, ExitPrecondition},
		{fmt.Errorf("wrapped: %w", &APIError{Status: 409}), ExitPrecondition},
		{&APIError{Status: 503}, ExitUnavailable},
		{&UnavailableError{Last: errors.New("refused")}, ExitUnavailable},
		{&WaitError{Mutation: &api.Mutation{Wait: &api.WaitResult{}}}, ExitWaitTimeout},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
