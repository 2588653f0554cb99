package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Headless Chromium for the status page tests, driven through the
// DevTools protocol over its WebSocket: one page, navigated once, read
// and screenshotted while it lives.

// chromiumFlags keep the browser off the network but for the page it is
// given, and out of the user's profile.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-extensions", "--disable-default-apps", "--mute-audio", "--no-default-browser-check",
}

// chromiumPath finds the browser (Debian's package: chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	requireE2E(t, "dig", "chromium")
	p, _ := exec.LookPath("chromium")
	return p
}

// artefactDir is where screenshots go: e2e/out/ (ignored by git).
func artefactDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("out", strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// dumpDOM loads url in a fresh headless browser and returns the DOM once
// the page's scripts have run (virtual time).
func dumpDOM(t *testing.T, url string) string {
	t.Helper()
	bin := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second*slow)
	defer cancel()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir(),
		"--virtual-time-budget=5000", "--dump-dom", url)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = childAttrs()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium --dump-dom %s: %v\n%s", url, err, errb.String())
	}
	return out.String()
}

// browser is one headless Chromium with one page.
type browser struct {
	t      *testing.T
	cmd    *exec.Cmd
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpReply
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// startBrowser starts Chromium with its DevTools port and attaches to its
// first page.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromiumPath(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+dir,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--window-size=1200,900", "about:blank")
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = childAttrs()
	var errb syncBuf
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	b := &browser{t: t, cmd: cmd, ctx: ctx, cancel: cancel, pending: map[int]chan cdpReply{}}
	t.Cleanup(b.close)
	// Chromium writes the port it took into DevToolsActivePort.
	var port string
	eventually(t, 30*time.Second, "chromium's DevTools port", func() error {
		raw, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort"))
		if err != nil {
			return fmt.Errorf("%v (stderr: %s)", err, errb.String())
		}
		port, _, _ = strings.Cut(string(raw), "\n")
		if _, err := strconv.Atoi(port); err != nil {
			return fmt.Errorf("DevToolsActivePort holds %q so far", raw)
		}
		return nil
	})
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	eventually(t, 30*time.Second, "chromium's page target", func() error {
		st, body, err := httpGet("http://127.0.0.1:" + port + "/json/list")
		if err != nil || st != 200 {
			return fmt.Errorf("%d %v", st, err)
		}
		if err := json.Unmarshal(body, &targets); err != nil {
			return err
		}
		for _, tg := range targets {
			if tg.Type == "page" {
				return nil
			}
		}
		return fmt.Errorf("no page among %s", body)
	})
	for _, tg := range targets {
		if tg.Type != "page" {
			continue
		}
		conn, _, err := websocket.Dial(ctx, tg.WS, nil)
		if err != nil {
			t.Fatalf("DevTools WebSocket: %v", err)
		}
		conn.SetReadLimit(64 << 20) // screenshots
		b.conn = conn
		break
	}
	go b.read()
	return b
}

func (b *browser) read() {
	for {
		_, data, err := b.conn.Read(b.ctx)
		if err != nil {
			return
		}
		var msg struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(data, &msg) != nil || msg.ID == 0 {
			continue // an event
		}
		b.mu.Lock()
		ch := b.pending[msg.ID]
		delete(b.pending, msg.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- msg.cdpReply
		}
	}
}

// call sends one DevTools command and decodes its result into out.
func (b *browser) call(method string, params any, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpReply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second*slow)
	defer cancel()
	if err := b.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(r.Result, out)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", method, ctx.Err())
	}
}

// navigate loads url in the page.
func (b *browser) navigate(url string) {
	b.t.Helper()
	if err := b.call("Page.navigate", map[string]any{"url": url}, nil); err != nil {
		b.t.Fatal(err)
	}
}

// eval evaluates expr in the page and returns its value as a string
// (expr should produce a string; a thrown error fails).
func (b *browser) eval(expr string) (string, error) {
	var res struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return "", err
	}
	if res.Exception != nil {
		return "", fmt.Errorf("%s: %s", expr, res.Exception.Text)
	}
	var s string
	if err := json.Unmarshal(res.Result.Value, &s); err != nil {
		return string(res.Result.Value), nil
	}
	return s, nil
}

// waitEval polls expr until want accepts its value.
func (b *browser) waitEval(what, expr string, want func(string) bool) string {
	b.t.Helper()
	var last string
	eventually(b.t, 30*time.Second, what, func() error {
		v, err := b.eval(expr)
		if err != nil {
			return err
		}
		last = v
		if !want(v) {
			return fmt.Errorf("page shows %q", v)
		}
		return nil
	})
	return last
}

// screenshot saves a PNG of the page into the test's artefact directory.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	if err := b.call("Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		b.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		b.t.Fatalf("screenshot: not a PNG (%v)", err)
	}
	p := filepath.Join(artefactDir(b.t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return p
}

func (b *browser) close() {
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	if b.conn != nil {
		// a clean exit takes the renderer and other children along
		_ = b.call("Browser.close", nil, nil)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		_ = b.conn.Close(websocket.StatusNormalClosure, "")
	}
	b.cancel()
	<-done
}

// syncBuf is a bytes.Buffer safe for a process's writes and our reads.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
