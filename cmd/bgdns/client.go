package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/pki"
)

// Client defaults.
const (
	defaultServer           = "http://127.0.0.1:8053"
	clientTimeout           = 30 * time.Second
	maxClientResponse       = 32 << 20
	exitAPIError            = 1 // the server refused the request, or could not be reached
	exitWaitIncomplete      = 3 // committed, but not every voter applied it in time
	outputTable, outputJSON = "table", "json"
)

// clientFlags are the persistent flags every client command reads.
type clientFlags struct {
	server string
	output string
	token  string
	caCert string
}

// addClientCommands registers the client commands (status, service, zone,
// deploy, switch, rollback, complete, history, cluster, acl, ...) on root and
// the persistent flags --server (BGDNS_SERVER), -o/--output and --token
// (BGDNS_TOKEN).
func addClientCommands(root *cobra.Command) {
	cf := &clientFlags{}
	pf := root.PersistentFlags()
	pf.StringVar(&cf.server, "server", envOr("BGDNS_SERVER", defaultServer), "API address of any cluster member (env BGDNS_SERVER)")
	pf.StringVarP(&cf.output, "output", "o", outputTable, "output format: table or json")
	pf.StringVar(&cf.token, "token", os.Getenv("BGDNS_TOKEN"), "API bearer token (env BGDNS_TOKEN; prefer the environment: a flag shows in the process list)")
	pf.StringVar(&cf.caCert, "ca-cert", os.Getenv("BGDNS_CACERT"), "PEM CA certificate that signed the servers' certificates, for https:// servers (env BGDNS_CACERT)")
	root.AddCommand(
		newStatusCmd(cf),
		newServiceCmd(cf),
		newZoneCmd(cf),
		newDeployCmd(cf),
		newSwitchCmd(cf),
		newStepCmd(cf, "rollback", "Switch back to the previous colour"),
		newStepCmd(cf, "complete", "Finish the deployment and retire the old colour"),
		newFreezeCmd(cf, "freeze", "Refuse switches of a service (or zone) until unfrozen"),
		newFreezeCmd(cf, "unfreeze", "Lift the freeze of a service (or zone)"),
		newHistoryCmd(cf),
		newClusterCmd(cf),
		newACLCmd(cf),
		newAuditCmd(cf),
		newWatchCmd(cf),
	)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// apiClient talks to one bgdns API.
type apiClient struct {
	base   string
	token  string
	actor  string
	json   bool
	http   *http.Client
	stdout io.Writer
}

// client checks the persistent flags and returns a client for cmd.
func (cf *clientFlags) client(cmd *cobra.Command, timeout time.Duration) (*apiClient, error) {
	switch cf.output {
	case outputTable, outputJSON:
	default:
		return nil, fmt.Errorf("--output must be table or json, not %q", cf.output)
	}
	base := strings.TrimRight(strings.TrimSpace(cf.server), "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q is not an address such as http://127.0.0.1:8053", cf.server)
	}
	if timeout <= 0 {
		timeout = clientTimeout
	}
	c := &apiClient{base: base, token: cf.token, actor: cliActor(), json: cf.output == outputJSON, stdout: cmd.OutOrStdout()}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if cf.caCert != "" {
		pool, err := pki.LoadPool(cf.caCert)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: pki.MinVersion}
	}
	c.http = &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// Follow 307/308 from a follower to the leader, body included (the
		// request's GetBody replays it), keeping our headers on the way.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			c.setHeaders(req)
			return nil
		},
	}
	return c, nil
}

// cliActor names who runs the client in the audit history.
func cliActor() string {
	if a := os.Getenv("BGDNS_ACTOR"); a != "" {
		return a
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

func (c *apiClient) setHeaders(req *http.Request) {
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.actor != "" && req.Method != http.MethodGet {
		req.Header.Set(api.HeaderActor, c.actor)
	}
}

// apiError is an error answered by the server.
type apiError struct {
	Status  int
	Code    string
	Message string
	Service *api.Service
}

func (e *apiError) Error() string {
	msg := e.Code + ": " + e.Message
	if s := e.Service; s != nil {
		msg += fmt.Sprintf(" (now: active %s, state %s, revision %d)", s.Active, s.State, s.Revision)
	}
	return msg
}

// do sends one request and returns the raw JSON body of a 2xx answer.
// Other answers become an *exitError carrying an *apiError.
func (c *apiClient) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.setHeaders(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &exitError{code: exitAPIError, err: fmt.Errorf("unavailable: %s %s: %w", method, c.base, unwrapURLError(err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxClientResponse))
	if err != nil {
		return nil, &exitError{code: exitAPIError, err: fmt.Errorf("unavailable: reading the answer: %w", err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return raw, nil
	}
	if resp.StatusCode == http.StatusGatewayTimeout && isIncompleteWait(raw) {
		return raw, nil // committed; the caller reports the wait (exit 3)
	}
	return nil, &exitError{code: exitAPIError, err: decodeAPIError(resp.StatusCode, raw)}
}

// isIncompleteWait reports whether raw is a mutation whose wait=all ran out
// before every voter applied it (the API's 504).
func isIncompleteWait(raw []byte) bool {
	var m struct {
		Wait *struct {
			Complete bool `json:"complete"`
		} `json:"wait"`
	}
	return json.Unmarshal(raw, &m) == nil && m.Wait != nil && !m.Wait.Complete
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func decodeAPIError(status int, raw []byte) *apiError {
	var b api.ErrorBody
	if err := json.Unmarshal(raw, &b); err == nil && b.Error.Code != "" {
		return &apiError{Status: status, Code: b.Error.Code, Message: b.Error.Message, Service: b.Error.Service}
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &apiError{Status: status, Code: fmt.Sprintf("http_%d", status), Message: msg}
}

// get decodes a GET's answer into v and returns the raw body too.
func (c *apiClient) get(ctx context.Context, path string, query url.Values, v any) ([]byte, error) {
	raw, err := c.do(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return nil, &exitError{code: exitAPIError, err: fmt.Errorf("unreadable answer from %s: %w", c.base, err)}
		}
	}
	return raw, nil
}

// printJSON writes the API's JSON exactly as it came, ending in a newline.
func (c *apiClient) printJSON(raw []byte) {
	raw = bytes.TrimRight(raw, "\n")
	_, _ = c.stdout.Write(append(raw, '\n'))
}

// servicePath and zonePath escape a name, with or without its final dot.
func servicePath(name string) string {
	return "/v1/services/" + url.PathEscape(trimName(name))
}

func zonePath(name string) string {
	return "/v1/zones/" + url.PathEscape(trimName(name))
}

func trimName(n string) string {
	n = strings.TrimSpace(n)
	if len(n) > 1 {
		n = strings.TrimSuffix(n, ".")
	}
	return n
}

// exactArgs is cobra.ExactArgs with a message naming what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s expects %s (got %d arguments); see --help", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
