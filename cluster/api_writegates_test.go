package cluster

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/bgdns/bgdns/api"
	"github.com/bgdns/bgdns/api/apitest"
)

// TestAPIWriteGates runs the API's PUT/PATCH gate cases against a real
// node: the same cases the API's tests run against its test backend.
func TestAPIWriteGates(t *testing.T) {
	c := newTestCluster(t, 1)
	srv := httptest.NewServer(api.NewHandler(c.leader().n, api.Options{Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	apitest.RunWriteGates(t, srv.URL, srv.Client())
}
