package cluster

import (
	"testing"

	"github.com/bgdns/bgdns/control"
	"github.com/bgdns/bgdns/peer"
)

func TestValidateJoin(t *testing.T) {
	for _, req := range []peer.JoinRequest{
		{},
		{ID: "n2"},
		{ID: "n2", RaftAddr: "a b:1"},
		{ID: "n2", RaftAddr: "127.0.0.1:1", HTTPAddr: "ftp://x"},
	} {
		if err := validateJoin(req); control.CodeOf(err) != control.CodeInvalid {
			t.Errorf("%+v: %v", req, err)
		}
	}
	if err := validateJoin(peer.JoinRequest{ID: "n2", RaftAddr: "127.0.0.1:1", HTTPAddr: "http://127.0.0.1:2"}); err != nil {
		t.Error(err)
	}
}
