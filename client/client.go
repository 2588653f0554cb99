package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/pki"
)

// Defaults of a Config.
const (
	DefaultServer      = "http://127.0.0.1:8053"
	DefaultTimeout     = 30 * time.Second
	DefaultRetryFor    = 15 * time.Second
	DefaultMaxResponse = 32 << 20
	// DefaultRetryInitial and DefaultRetryMax bound the sleep between two
	// attempts: it starts near the first, doubles, and never exceeds the
	// second (each sleep is jittered by ±50%, then capped).
	DefaultRetryInitial = 100 * time.Millisecond
	DefaultRetryMax     = 2 * time.Second
)

// Config says how to reach a cluster.
type Config struct {
	// Servers are API base URLs of cluster members, tried in order
	// ("host:port" means http://host:port). Empty means DefaultServer.
	Servers []string
	// Token is sent as Authorization: Bearer.
	Token string
	// CAFile is a PEM file of the CA that signed the servers'
	// certificates, for https:// servers (default: the system roots).
	CAFile string
	// Actor is sent as X-Bgdns-Actor with every write: who runs the client.
	Actor string
	// Timeout bounds one attempt (a write that waits gets its wait on
	// top). Zero means DefaultTimeout.
	Timeout time.Duration
	// RetryFor bounds the time spent retrying a call, from its first
	// attempt: no new attempt starts after it. Zero means
	// DefaultRetryFor; negative means a single attempt.
	RetryFor time.Duration
	// RetryInitial and RetryMax shape the backoff between attempts (zero:
	// DefaultRetryInitial and DefaultRetryMax).
	RetryInitial, RetryMax time.Duration
	// MaxResponse bounds the size of an answer read (zero:
	// DefaultMaxResponse); a longer one is an error.
	MaxResponse int64
	// Transport, when set, replaces the HTTP transport (CAFile is then
	// not used).
	Transport http.RoundTripper
}

// Client calls the bgdns API. It is safe for concurrent use.
type Client struct {
	servers      []string
	token, actor string
	timeout      time.Duration
	retryFor     time.Duration
	retryInitial time.Duration
	retryMax     time.Duration
	maxResponse  int64
	http         *http.Client

	mu      sync.Mutex
	current int // index of the server that answered last

	// sleep waits between attempts and now reads the clock; tests
	// replace them.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	servers, err := ParseServers(strings.Join(cfg.Servers, ","))
	if err != nil {
		return nil, err
	}
	c := &Client{
		servers: servers, token: cfg.Token, actor: cfg.Actor,
		timeout: orDefault(cfg.Timeout, DefaultTimeout), retryFor: cfg.RetryFor,
		retryInitial: orDefault(cfg.RetryInitial, DefaultRetryInitial),
		retryMax:     orDefault(cfg.RetryMax, DefaultRetryMax),
		maxResponse:  cfg.MaxResponse,
		sleep:        sleepCtx,
		now:          time.Now,
	}
	if c.retryFor == 0 {
		c.retryFor = DefaultRetryFor
	}
	if c.maxResponse <= 0 {
		c.maxResponse = DefaultMaxResponse
	}
	tr := cfg.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.CAFile != "" {
			pool, err := pki.LoadPool(cfg.CAFile)
			if err != nil {
				return nil, err
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: pki.MinVersion}
		}
		tr = t
	}
	c.http = &http.Client{
		Transport: tr,
		// Follow 307/308 from a follower to the leader, body included (the
		// request's GetBody replays it), keeping our headers on the way:
		// Go drops Authorization when the host changes.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			c.setHeaders(req, via[0].Header.Get(api.HeaderRequestID))
			return nil
		},
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ParseServers reads a comma-separated list of API addresses into base
// URLs ("host:port" gets http://; a trailing slash is dropped).
func ParseServers(list string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		base := s
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("server %q is not an address such as http://127.0.0.1:8053", s)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	if len(out) == 0 {
		out = []string{DefaultServer}
	}
	return out, nil
}

// Servers returns the base URLs the client tries, in order.
func (c *Client) Servers() []string { return append([]string(nil), c.servers...) }

// Server returns the base URL of the server that answered last (the first
// one before any call).
func (c *Client) Server() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[c.current]
}

// Request is one call.
type Request struct {
	Method string
	Path   string // under the server's base URL: /v1/services/...
	Query  url.Values
	// Body, when not nil, is sent as JSON (json.RawMessage and []byte as
	// they are).
	Body any
	// ContentType of the body (default application/json).
	ContentType string
	// RequestID of a write; generated when empty. Reads send none.
	RequestID string
	// Timeout of one attempt, when longer than the client's (a wait).
	Timeout time.Duration
	// Accept lists statuses other than 2xx that are an answer, not an
	// error (e.g. 503 of /readyz).
	Accept []int
}

// Response is a server's answer.
type Response struct {
	Status    int
	Header    http.Header
	Body      []byte
	Server    string // base URL that answered
	RequestID string // the write's request id
}

// IsWrite reports whether method changes something.
func IsWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// NewRequestID returns a random request id (16 bytes, hex).
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Do sends req, retrying on other servers as the package doc says, and
// returns the answer of a 2xx (or an accepted status, or a 504 wait report).
// Any other answer is an *APIError; no answer in time is an
// *UnavailableError.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	var body []byte
	switch b := req.Body.(type) {
	case nil:
	case []byte:
		body = b
	case json.RawMessage:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	id := ""
	if IsWrite(req.Method) {
		id = req.RequestID
		if id == "" {
			id = NewRequestID()
		}
	}
	timeout := max(c.timeout, req.Timeout)

	bo := &backoff.ExponentialBackOff{
		InitialInterval: c.retryInitial, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: c.retryMax,
	}
	bo.Reset()
	deadline := c.now().Add(c.retryFor)
	attempts := 0
	for {
		attempts++
		server := c.Server()
		resp, err := c.once(ctx, server, req, body, id, timeout)
		if err == nil {
			return resp, nil
		}
		if !c.retryable(ctx, err) {
			return nil, err
		}
		c.next(server)
		wait := min(bo.NextBackOff(), c.retryMax)
		if c.retryFor < 0 || c.now().Add(wait).After(deadline) {
			var ae *APIError
			if errors.As(err, &ae) {
				return nil, ae // the last answer: no leader, not ready
			}
			return nil, &UnavailableError{Method: req.Method, Path: req.Path, Servers: c.Servers(),
				Attempts: attempts, RetryFor: max(c.retryFor, 0), RequestID: id, Last: err}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// retryable: a transport error other than a certificate the client does
// not trust, a timeout of one attempt, or a 502/503/504 answer.
func (c *Client) retryable(ctx context.Context, err error) bool {
	if isContextErr(ctx) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return retryableStatus(ae.Status)
	}
	var (
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
		tv *tls.CertificateVerificationError
	)
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &tv) {
		return false
	}
	var te *transportError
	return errors.As(err, &te)
}

// next moves on from server to the one after it (unless another call
// already did).
func (c *Client) next(server string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.servers[c.current] == server {
		c.current = (c.current + 1) % len(c.servers)
	}
}

// transportError is a failure to get an answer from one server.
type transportError struct {
	server string
	err    error
}

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// once is one attempt at server.
func (c *Client) once(ctx context.Context, server string, req Request, body []byte, id string, timeout time.Duration) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := server + req.Path
	if len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	c.setHeaders(hr, id)
	resp, err := c.http.Do(hr)
	if err != nil {
		return nil, &transportError{server: server, err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse+1))
	if err != nil {
		return nil, &transportError{server: server, err: fmt.Errorf("reading the answer: %w", err)}
	}
	if int64(len(raw)) > c.maxResponse {
		return nil, fmt.Errorf("the answer of %s %s is larger than %d bytes", req.Method, server+req.Path, c.maxResponse)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw, Server: server, RequestID: id}
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	for _, s := range req.Accept {
		ok = ok || s == resp.StatusCode
	}
	if ok || (resp.StatusCode == http.StatusGatewayTimeout && isIncompleteWait(raw)) {
		return out, nil
	}
	ae := decodeAPIError(resp.StatusCode, raw)
	ae.Server, ae.RequestID = server, id
	return nil, ae
}

func (c *Client) setHeaders(req *http.Request, id string) {
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if IsWrite(req.Method) {
		if c.actor != "" {
			req.Header.Set(api.HeaderActor, c.actor)
		}
		if id != "" {
			req.Header.Set(api.HeaderRequestID, id)
		}
	}
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s %s: %w", ue.Op, redactURL(ue.URL), ue.Err)
	}
	return err
}

// redactURL drops the query (it never carries a secret today, but an
// error message should not be where one would leak).
func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
