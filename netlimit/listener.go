package netlimit

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Listener wraps a net.Listener: connections past the limiter's bounds are
// closed as soon as they are accepted, and every accepted connection
// releases its slot when closed.
type Listener struct {
	net.Listener
	lim *Limiter
}

// Wrap bounds ln with lim.
func Wrap(ln net.Listener, lim *Limiter) *Listener { return &Listener{Listener: ln, lim: lim} }

// Accept returns the next connection within the bounds.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return nil, err
		}
		release, ok := l.lim.Admit(Source(c.RemoteAddr()))
		if !ok {
			c.Close()
			continue
		}
		return &Conn{Conn: c, release: release}, nil
	}
}

// Conn releases its slot once, when closed.
type Conn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close closes the connection and frees its slot.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
