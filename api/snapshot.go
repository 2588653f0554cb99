package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/bgdns/bgdns/control"
	"github.com/go-chi/chi/v5"
)

// SnapshotContentType is the media type of a backup file (the snapshot
// envelope and its checksum trailer). PUT /v1/snapshot requires it (or
// application/octet-stream): neither can be sent across origins without a
// preflight.
const SnapshotContentType = "application/vnd.bgdns.snapshot"

// DefaultMaxSnapshotBytes bounds a PUT /v1/snapshot body by default.
const DefaultMaxSnapshotBytes = 64 << 20

// snapshotTimeout bounds taking or restoring a snapshot.
const snapshotTimeout = 60 * time.Second

// Snapshotter is the part of a Backend that backs up and restores the
// whole state; a Backend without it answers 501 on /v1/snapshot.
type Snapshotter interface {
	// BackupTo writes a consistent, checksummed snapshot of the node's
	// state to w and returns the index it was taken at.
	BackupTo(ctx context.Context, w io.Writer) (index uint64, err error)
	// RestoreFrom replaces the cluster's state with backup through the
	// log (CodeNotLeader on a follower) and returns the index of the
	// restore and a description of what the backup held; actor is
	// recorded in the audit.
	RestoreFrom(ctx context.Context, backup []byte, actor string) (index uint64, info any, err error)
}

// SnapshotRestored is the answer to PUT /v1/snapshot.
type SnapshotRestored struct {
	Index    uint64 `json:"index"` // the log index of the restore
	Snapshot any    `json:"snapshot"`
}

func (h *handler) snapshotter(w http.ResponseWriter, r *http.Request) (Snapshotter, bool) {
	s, ok := h.b.(Snapshotter)
	if !ok {
		h.writeError(w, r, &control.Error{Code: control.CodeInternal, Message: "this node cannot take snapshots"})
	}
	return s, ok
}

// getSnapshot is GET /v1/snapshot: the node confirms with the leader that
// it applied everything committed, then writes a snapshot of its state.
func (h *handler) getSnapshot(w http.ResponseWriter, r *http.Request) {
	s, ok := h.snapshotter(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), snapshotTimeout)
	defer cancel()
	if err := h.b.Confirm(ctx); err != nil {
		h.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	idx, err := s.BackupTo(ctx, &buf)
	if err != nil {
		h.writeError(w, r, err) // a *control.Error as it is, anything else 500
		return
	}
	w.Header().Set("Content-Type", SnapshotContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("X-Bgdns-Snapshot-Index", strconv.FormatUint(idx, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="bgdns-%d.snap"`, idx))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// putSnapshot is PUT /v1/snapshot: the body (at most MaxSnapshotBytes)
// replaces the state of the whole cluster.
func (h *handler) putSnapshot(w http.ResponseWriter, r *http.Request) {
	s, ok := h.snapshotter(w, r)
	if !ok {
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != SnapshotContentType && mt != "application/octet-stream" {
		h.writeError(w, r, &control.Error{Code: CodeUnsupportedMedia,
			Message: "a snapshot is sent as " + SnapshotContentType + " or application/octet-stream"})
		return
	}
	limit := h.opts.MaxSnapshotBytes
	if r.ContentLength > limit {
		h.writeError(w, r, &control.Error{Code: CodeTooLarge, Message: fmt.Sprintf("snapshot is larger than %d bytes (--max-snapshot-bytes)", limit)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		h.writeError(w, r, badRequest("reading request body: %v", err))
		return
	}
	if int64(len(body)) > limit {
		h.writeError(w, r, &control.Error{Code: CodeTooLarge, Message: fmt.Sprintf("snapshot is larger than %d bytes (--max-snapshot-bytes)", limit)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), snapshotTimeout)
	defer cancel()
	actor, _ := identityOf(r).actor(r)
	index, info, err := s.RestoreFrom(ctx, body, actor)
	if err != nil {
		if leader, ok := notLeader(err); ok {
			reqID, _ := requestID(r, "")
			h.forward(w, r, body, leader, reqID, "")
			return
		}
		h.writeError(w, r, err)
		return
	}
	h.log.Info("state restored from a snapshot", "index", index, "actor", identityOf(r).name)
	writeJSON(w, http.StatusOK, SnapshotRestored{Index: index, Snapshot: info})
}

// snapshotRoutes are GET and PUT /v1/snapshot (admin).
func (h *handler) snapshotRoutes(r chi.Router) {
	r.Get("/", h.getSnapshot)
	r.Put("/", h.putSnapshot)
}
