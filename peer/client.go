package peer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Paths of the member API that other members call.
const (
	SelfPath       = "/v1/cluster/self"
	JoinPath       = "/v1/cluster/join"
	CheckpointPath = "/v1/cluster/checkpoint"
	ReadIndexPath  = "/v1/cluster/readindex"
)

// Timeout bounds one status request to a peer.
const Timeout = 1 * time.Second

const maxBody = 64 << 10

// Client makes node-to-node API calls.
type Client struct {
	http  *http.Client
	token string
}

// New returns a client that uses tlsConf for https:// members (nil: the
// system defaults, for plaintext loopback clusters) and sends token, when
// set, as a bearer token.
func New(tlsConf *tls.Config, token string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	tr.MaxIdleConnsPerHost = 4
	tr.ResponseHeaderTimeout = 60 * time.Second
	return &Client{
		http: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		token: token,
	}
}

// HTTP is the underlying client (no redirects followed, no overall
// timeout: callers bound each request with its context). The API uses it
// to forward writes to the leader.
func (c *Client) HTTP() *http.Client { return c.http }

func (c *Client) authorize(req *http.Request) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
}

// getJSON fetches base+path into v, bounded by Timeout.
func (c *Client) getJSON(ctx context.Context, base, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return err
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxBody)
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, body)
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}
