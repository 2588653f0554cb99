package api

import (
	"net/http"
	"runtime"
	"testing"

	"github.com/bgdns/bgdns/buildinfo"
)

func TestVersion(t *testing.T) {
	a := newACLEnv(t, Options{})
	_, reader := a.token("dashboard", "read")
	errorOf(t, a.must(http.StatusUnauthorized, "GET", "/v1/version", ""))
	var v buildinfo.Info
	a.must(http.StatusOK, "GET", "/v1/version", "", bearer(reader)...).decode(t, &v)
	if v != buildinfo.Get() || v.GoVersion != runtime.Version() || v.Version == "" ||
		v.RaftProtocol != buildinfo.RaftProtocol || v.EntryEncoding != buildinfo.EntryEncoding || v.SnapshotEncoding != buildinfo.SnapshotEncoding {
		t.Fatalf("version %+v, want %+v", v, buildinfo.Get())
	}
	errorOf(t, a.must(http.StatusMethodNotAllowed, "POST", "/v1/version", "{}", bearer(a.admin)...))
}
