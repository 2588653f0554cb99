package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bgdns/bgdns/api/apitest"
)

// snapBackend is the fake backend with a snapshot store of one blob.
type snapBackend struct {
	*apitest.Backend
	blob     string
	restored []string
}

func (s *snapBackend) BackupTo(_ context.Context, w io.Writer) (uint64, error) {
	_, err := io.WriteString(w, s.blob)
	return 42, err
}

func (s *snapBackend) RestoreFrom(_ context.Context, b []byte, _ string) (uint64, any, error) {
	s.restored = append(s.restored, string(b))
	return 43, map[string]int{"services": 1}, nil
}

func newSnapEnv(t *testing.T, opts Options) (*aclEnv, *snapBackend) {
	t.Helper()
	logs := &syncBuffer{}
	opts.ACL = true
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	sb := &snapBackend{Backend: apitest.New(), blob: "SNAPSHOT-BYTES"}
	srv := httptest.NewServer(NewHandler(sb, opts))
	t.Cleanup(srv.Close)
	a := &aclEnv{env: &env{t: t, b: sb.Backend, srv: srv}, logs: logs}
	var tc TokenChange
	a.must(http.StatusOK, "POST", "/v1/acl/bootstrap", "").decode(t, &tc)
	a.admin = tc.Secret
	return a, sb
}

// Only admin tokens may read or replace the whole state.
func TestSnapshotAdminOnly(t *testing.T) {
	a, sb := newSnapEnv(t, Options{})
	_, operator := a.token("ops", "operator")
	a.must(http.StatusUnauthorized, "GET", "/v1/snapshot", "")
	a.must(http.StatusForbidden, "GET", "/v1/snapshot", "", bearer(operator)...)
	a.must(http.StatusForbidden, "PUT", "/v1/snapshot", "x", append(bearer(operator), "Content-Type", SnapshotContentType)...)
	if len(sb.restored) != 0 {
		t.Fatalf("an operator restored a snapshot: %q", sb.restored)
	}
	r := a.must(http.StatusOK, "GET", "/v1/snapshot", "", bearer(a.admin)...)
	if string(r.body) != sb.blob || r.header.Get("Content-Type") != SnapshotContentType || r.header.Get("X-Bgdns-Snapshot-Index") != "42" {
		t.Fatalf("GET /v1/snapshot: %q %v", r.body, r.header)
	}
	a.must(http.StatusOK, "PUT", "/v1/snapshot", "NEW", append(bearer(a.admin), "Content-Type", SnapshotContentType)...)
	if len(sb.restored) != 1 || sb.restored[0] != "NEW" {
		t.Fatalf("restored %q", sb.restored)
	}
}

// A PUT body above the bound is refused before it reaches the backend, and
// so is one not declared a snapshot (a form post across origins).
func TestSnapshotPutBounded(t *testing.T) {
	a, sb := newSnapEnv(t, Options{MaxSnapshotBytes: 16})
	hdr := append(bearer(a.admin), "Content-Type", "application/octet-stream")
	a.must(http.StatusRequestEntityTooLarge, "PUT", "/v1/snapshot", strings.Repeat("x", 17), hdr...)
	a.must(http.StatusUnsupportedMediaType, "PUT", "/v1/snapshot", "small", append(bearer(a.admin), "Content-Type", "text/plain")...)
	if len(sb.restored) != 0 {
		t.Fatalf("restored %q", sb.restored)
	}
	a.must(http.StatusOK, "PUT", "/v1/snapshot", strings.Repeat("x", 16), hdr...)
}
