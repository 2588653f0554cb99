package prober

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/bgdns/bgdns/control"
)

// maxBody is how much of a health check's response body is read.
const maxBody = 4 << 10

// newHTTPClient returns the client of http checks: no proxy, no keep-alive
// (each probe sees the backend as a new client would), no redirects (a 3xx
// is not a 2xx), bounded headers.
func newHTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{}).DialContext,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// probe runs one check of address a; ctx carries the check's timeout. It
// returns whether the address is up and a short description.
func probe(ctx context.Context, c *http.Client, hc control.HealthCheck, a netip.Addr) (bool, string) {
	target := netip.AddrPortFrom(a, uint16(hc.Port)).String()
	switch hc.Type {
	case control.CheckTCP:
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", target)
		if err != nil {
			return false, describe(ctx, hc, err)
		}
		conn.Close()
		return true, "connected"
	case control.CheckHTTP:
		u := url.URL{Scheme: "http", Host: target, Path: hc.Path}
		if i := strings.IndexByte(hc.Path, '?'); i >= 0 {
			u.Path, u.RawQuery = hc.Path[:i], hc.Path[i+1:]
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return false, err.Error()
		}
		if hc.Host != "" {
			req.Host = hc.Host
		}
		req.Header.Set("User-Agent", "bgdns-health-check")
		resp, err := c.Do(req)
		if err != nil {
			return false, describe(ctx, hc, err)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
		if hc.ExpectStatus != 0 {
			ok = resp.StatusCode == hc.ExpectStatus
		}
		return ok, "http " + strconv.Itoa(resp.StatusCode)
	}
	return false, fmt.Sprintf("unknown check type %q", hc.Type)
}

// describe shortens a probe error to what an operator needs to read.
func describe(ctx context.Context, hc control.HealthCheck, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return "timeout after " + hc.Timeout.String()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
