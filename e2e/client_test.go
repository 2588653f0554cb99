package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// CLIResult is one run of the bgdns client.
type CLIResult struct {
	Args   []string
	Stdout string
	Stderr string
	Code   int // exit code
}

func (r CLIResult) String() string {
	return fmt.Sprintf("bgdns %s: exit %d\nstdout:\n%s\nstderr:\n%s",
		strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// RunCLI runs `bgdns --server server args...` and returns what happened,
// whatever the exit code. server may be empty to leave --server out.
func RunCLI(t testing.TB, server string, args ...string) CLIResult {
	t.Helper()
	return RunCLIEnv(t, nil, server, args...)
}

// RunCLIEnv is RunCLI with extra environment variables (KEY=VALUE).
func RunCLIEnv(t testing.TB, env []string, server string, args ...string) CLIResult {
	t.Helper()
	full := args
	if server != "" {
		full = append([]string{"--server", server}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second*slow)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, full...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := CLIResult{Args: full, Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("bgdns %s: %v", strings.Join(full, " "), err)
	}
	return r
}

// CLI runs the client and returns stdout; a non-zero exit fails the test.
func CLI(t testing.TB, server string, args ...string) string {
	t.Helper()
	r := RunCLI(t, server, args...)
	if r.Code != 0 {
		t.Fatalf("%s", r)
	}
	return r.Stdout
}

// CLIJSON runs the client with -o json and decodes its stdout into v.
func CLIJSON(t testing.TB, server string, v any, args ...string) {
	t.Helper()
	out := CLI(t, server, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("bgdns %s -o json: not JSON for %T: %v\n%s", strings.Join(args, " "), v, err, out)
	}
}

// The API's JSON, as docs/API.md shows it ----------------------------------

// PoolJSON is one colour of a service.
type PoolJSON struct {
	Version   string   `json:"version"`
	Addresses []string `json:"addresses"`
	Retired   bool     `json:"retired,omitempty"`
}

// ServiceJSON is a service as the API reads and writes it.
type ServiceJSON struct {
	Name     string    `json:"name"`
	TTL      uint32    `json:"ttl"`
	Active   string    `json:"active"`
	State    string    `json:"state"`
	Revision uint64    `json:"revision"`
	Blue     *PoolJSON `json:"blue,omitempty"`
	Green    *PoolJSON `json:"green,omitempty"`
}

// RecordJSON is one audit record of a service's history.
type RecordJSON struct {
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Action    string    `json:"action"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Version   string    `json:"version"`
	Reason    string    `json:"reason"`
	Index     uint64    `json:"index"`
	RequestID string    `json:"request_id"`
}

// ErrorJSON is the API's error body.
type ErrorJSON struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Mutation is what a mutating call returns: the new service and the Raft
// index of the entry. The service may be nested under "service" or be the
// body itself; both are read.
type Mutation struct {
	Index   uint64
	Service ServiceJSON
	Raw     json.RawMessage
}

func decodeMutation(b []byte) (Mutation, error) {
	var m Mutation
	m.Raw = b
	var top struct {
		Index   uint64          `json:"index"`
		Service json.RawMessage `json:"service"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return m, fmt.Errorf("mutation response not JSON: %v: %s", err, b)
	}
	m.Index = top.Index
	body := top.Service
	if len(body) == 0 {
		body = b
	}
	if err := json.Unmarshal(body, &m.Service); err != nil {
		return m, fmt.Errorf("mutation response: service not readable: %v: %s", err, b)
	}
	return m, nil
}

// decodeList reads a JSON list that may be bare or wrapped in an object
// under one of keys.
func decodeList(b []byte, v any, keys ...string) error {
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '[' {
		return json.Unmarshal(t, v)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(t, &obj); err != nil {
		return fmt.Errorf("not a JSON list or object: %v: %s", err, b)
	}
	for _, k := range keys {
		if raw, ok := obj[k]; ok {
			return json.Unmarshal(raw, v)
		}
	}
	return fmt.Errorf("no list under %v in %s", keys, b)
}

// Raw HTTP -------------------------------------------------------------------

// HTTPResult is one HTTP exchange.
type HTTPResult struct {
	Method, URL string
	Status      int
	Header      http.Header
	Body        []byte
}

func (r HTTPResult) String() string {
	return fmt.Sprintf("%s %s: %d %s", r.Method, r.URL, r.Status, bytes.TrimSpace(r.Body))
}

// Decode unmarshals the body into v, failing the test if it cannot.
func (r HTTPResult) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: body not JSON for %T: %v", r, v, err)
	}
}

// ErrorCode returns the code of an error body ("" when there is none).
func (r HTTPResult) ErrorCode() string {
	var e ErrorJSON
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// client does not follow redirects, so a test sees a 307 as it is.
var client = &http.Client{
	Transport:     harnessTransport,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Call sends method url with body (nil, []byte/string as is, or any value
// as JSON) and returns the response; a transport error fails the test.
func Call(t testing.TB, method, url string, body any) HTTPResult {
	t.Helper()
	r, err := CallE(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// CallE is Call returning an error instead of failing the test.
func CallE(method, url string, body any) (HTTPResult, error) {
	return CallHeaders(method, url, body, nil)
}

// CallHeaders is CallE with request headers.
func CallHeaders(method, url string, body any, headers map[string]string) (HTTPResult, error) {
	res := HTTPResult{Method: method, URL: url}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return res, err
		}
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second*slow)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return res, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return res, fmt.Errorf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	res.Status, res.Header = resp.StatusCode, resp.Header
	res.Body, err = io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return res, err
}

// Expect calls and fails the test unless the status is want.
func Expect(t testing.TB, want int, method, url string, body any) HTTPResult {
	t.Helper()
	r := Call(t, method, url, body)
	if r.Status != want {
		t.Fatalf("%s (want %d)", r, want)
	}
	return r
}

// GetService reads one service over REST.
func GetService(t testing.TB, base, name string) ServiceJSON {
	t.Helper()
	var s ServiceJSON
	Expect(t, http.StatusOK, "GET", base+"/v1/services/"+name, nil).Decode(t, &s)
	return s
}

// GetHistory reads a service's audit records over REST, newest first.
func GetHistory(t testing.TB, base, name string) []RecordJSON {
	t.Helper()
	r := Expect(t, http.StatusOK, "GET", base+"/v1/services/"+name+"/history", nil)
	var recs []RecordJSON
	if err := decodeList(r.Body, &recs, "history", "records", "items"); err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	return recs
}
