package netlimit

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// HandshakeListener completes each connection's TLS handshake, on a
// goroutine of its own and bounded in time (Limiter.HandshakeTimeout),
// before Accept returns it: a peer that never finishes one holds no
// Accept, a failed handshake is logged through the limiter (once per
// source a minute), and a plaintext HTTP request gets a 400 saying so.
// Accept returns *tls.Conn with the handshake done, so http.Server still
// sees TLS (r.TLS, client certificates). Both the Raft and the API
// listeners use it, over a Listener of this package.
type HandshakeListener struct {
	net.Listener
	cfg      *tls.Config
	lim      *Limiter
	timeout  time.Duration
	accepted chan net.Conn
	pending  *pendingSet
	closed   chan struct{}
	once     sync.Once
	errMu    sync.Mutex
	err      error
}

// NewHandshakeListener serves TLS with cfg on ln (usually a Listener
// bounded by lim), allowing each handshake timeout (shorter while lim is
// busy). At most a quarter of lim's connections (PendingShare) may be in
// their handshake at once; see pendingSet for who gives way when more
// arrive.
func NewHandshakeListener(ln net.Listener, cfg *tls.Config, lim *Limiter, timeout time.Duration) *HandshakeListener {
	h := &HandshakeListener{Listener: ln, cfg: cfg, lim: lim, timeout: timeout, accepted: make(chan net.Conn), closed: make(chan struct{}),
		pending: newPendingSet(max(lim.Total()/PendingShare, minPending))}
	go h.acceptLoop()
	return h
}

func (h *HandshakeListener) acceptLoop() {
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			h.errMu.Lock()
			h.err = err
			h.errMu.Unlock()
			h.Close()
			return
		}
		src := Source(c.RemoteAddr())
		e := h.pending.add(c, src)
		if e == nil {
			h.lim.Refused(src, "too many connections in their TLS handshake", nil)
			c.Close()
			continue
		}
		go h.handshake(c, e)
	}
}

// PendingShare is the fraction of a listener's connections (1/PendingShare)
// that may be in their TLS handshake at once, and minPending its floor.
const (
	PendingShare = 4
	minPending   = 8
)

func (h *HandshakeListener) handshake(c net.Conn, e *pendingConn) {
	tc := tls.Server(c, h.cfg)
	_ = tc.SetDeadline(time.Now().Add(h.lim.HandshakeTimeout(h.timeout)))
	err := tc.Handshake()
	if !h.pending.done(e) && err == nil {
		err = errEvicted // closed under it after the handshake completed
	}
	if err != nil {
		var re tls.RecordHeaderError
		if errors.As(err, &re) && re.Conn != nil && looksLikeHTTP(re.RecordHeader) {
			_, _ = io.WriteString(re.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
		}
		h.lim.Refused(Source(c.RemoteAddr()), "TLS handshake failed", err)
		tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	select {
	case h.accepted <- tc:
	case <-h.closed:
		tc.Close()
	}
}

var errEvicted = errors.New("evicted: the handshake budget was full")

// Pending is the number of connections in their handshake now, and the
// number evicted to make room for others since the listener started.
func (h *HandshakeListener) Pending() (pending, evicted int) { return h.pending.count() }

// looksLikeHTTP reports whether a record header is the start of a
// plaintext HTTP request.
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH":
		return true
	}
	return false
}

// Accept returns the next connection whose handshake succeeded.
func (h *HandshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-h.accepted:
		return c, nil
	case <-h.closed:
		h.errMu.Lock()
		defer h.errMu.Unlock()
		if h.err != nil {
			return nil, h.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops listening; connections still in their handshake are closed.
func (h *HandshakeListener) Close() error {
	var err error
	h.once.Do(func() {
		close(h.closed)
		err = h.Listener.Close()
	})
	return err
}
