package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	joinAttemptTimeout = 30 * time.Second
	maxJoinRedirects   = 5
)

// Join asks the member whose API is at memberHTTP to add the node
// described by req. It follows a 307 to the leader (sending the token
// there too: the leader is another host of the same cluster) and retries
// with backoff while there is no leader or the member cannot be reached,
// until it succeeds, a member refuses for good (a 4xx answer), or ctx
// ends.
func (c *Client) Join(ctx context.Context, memberHTTP string, req JoinRequest) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	target := strings.TrimRight(memberHTTP, "/") + JoinPath
	backoff := 100 * time.Millisecond
	for {
		err := c.postJoin(ctx, target, body)
		var perm *permanentError
		if err == nil || errors.As(err, &perm) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("join %s: %w (last error: %v)", memberHTTP, ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, 3*time.Second)
	}
}

type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

// postJoin makes one attempt, following redirects itself.
func (c *Client) postJoin(ctx context.Context, target string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, joinAttemptTimeout)
	defer cancel()
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return &permanentError{err.Error()}
		}
		req.Header.Set("Content-Type", "application/json")
		c.authorize(req)
		resp, err := c.http.Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect:
			if hop >= maxJoinRedirects {
				return errors.New("join: too many redirects")
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return fmt.Errorf("join %s: redirect without a usable Location", target)
			}
			base, _ := url.Parse(target)
			target = base.ResolveReference(loc).String()
		case resp.StatusCode/100 == 2:
			return nil
		case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
			return &permanentError{fmt.Sprintf("join %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))}
		default:
			return fmt.Errorf("join %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))
		}
	}
}
