// Package buildinfo says which bgdns this is: the release version and commit
// stamped at build time (make build sets them with -ldflags -X), the Go
// version, and the encoding versions a node writes and reads. It imports
// nothing of bgdns, so every package and the CLI can use it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Stamped by the linker: go build -ldflags "-X github.com/bgdns/bgdns/buildinfo.version=v1.2.3 -X ...commit=abc".
var (
	version = "dev"
	commit  = ""
)

// Encoding versions, kept here so /v1/version and the upgrade checks agree.
// They must match what cluster writes (entry frame and snapshot envelope):
// cluster's tests compare them.
const (
	// RaftProtocol is the hashicorp/raft protocol version nodes speak.
	RaftProtocol = 3
	// EntryEncoding is the log entry frame version written today.
	EntryEncoding = 1
	// SnapshotEncoding is the snapshot envelope format written today.
	SnapshotEncoding = 2
)

// Info is what `bgdns version` prints and GET /v1/version returns.
type Info struct {
	Version          string `json:"version"`
	Commit           string `json:"commit,omitempty"`
	GoVersion        string `json:"go_version"`
	RaftProtocol     int    `json:"raft_protocol"`
	EntryEncoding    int    `json:"entry_encoding"`
	SnapshotEncoding int    `json:"snapshot_encoding"`
}

// Get returns this binary's build information. Without a stamped commit it
// falls back to the VCS revision the Go toolchain recorded, if any.
func Get() Info {
	c := commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	return Info{
		Version:          version,
		Commit:           c,
		GoVersion:        runtime.Version(),
		RaftProtocol:     RaftProtocol,
		EntryEncoding:    EntryEncoding,
		SnapshotEncoding: SnapshotEncoding,
	}
}
