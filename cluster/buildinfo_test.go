package cluster

import (
	"testing"

	"github.com/hashicorp/raft"

	"github.com/bgdns/bgdns/buildinfo"
)

// What /v1/version reports must be what this package writes.
func TestBuildinfoMatchesEncodings(t *testing.T) {
	if buildinfo.EntryEncoding != int(entryVersion) {
		t.Errorf("buildinfo.EntryEncoding = %d, cluster writes %d", buildinfo.EntryEncoding, entryVersion)
	}
	if buildinfo.SnapshotEncoding != snapshotFormat {
		t.Errorf("buildinfo.SnapshotEncoding = %d, cluster writes %d", buildinfo.SnapshotEncoding, snapshotFormat)
	}
	if got := int(raft.DefaultConfig().ProtocolVersion); buildinfo.RaftProtocol != got {
		t.Errorf("buildinfo.RaftProtocol = %d, raft speaks %d", buildinfo.RaftProtocol, got)
	}
}
