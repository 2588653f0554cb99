package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// servedFile records, in the data directory, the highest applied index
// this node has served from. After a restart the node serves again only
// once it has applied at least that much: it never answers from an older
// state than it answered from before, even if the end of its log was lost
// (a damaged store, a disk that dropped its last writes).
const servedFile = "served-index"

// servedEvery spaces the writes of servedFile while serving.
const servedEvery = time.Second

// watermark persists the served index.
type watermark struct {
	path    string // "" without a data directory: nothing persisted
	written uint64
	last    time.Time
}

func newWatermark(dataDir string) *watermark {
	if dataDir == "" {
		return &watermark{}
	}
	return &watermark{path: filepath.Join(dataDir, servedFile)}
}

// load reads the recorded index (0 when there is none).
func (w *watermark) load() (uint64, error) {
	if w.path == "" {
		return 0, nil
	}
	b, err := os.ReadFile(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cluster: read %s: %w", w.path, err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cluster: %s does not hold an index (%q): move it aside only if this node's data was rebuilt on purpose", w.path, b)
	}
	w.written = v
	return v, nil
}

// record writes index when it moved on and servedEvery has passed (or
// always, with force), atomically: a temporary file, fsync, rename.
func (w *watermark) record(index uint64, now time.Time, force bool) error {
	if w.path == "" || index <= w.written || (!force && now.Sub(w.last) < servedEvery) {
		return nil
	}
	tmp := w.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err = fmt.Fprintf(f, "%d\n", index); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, w.path)
	}
	if err != nil {
		return fmt.Errorf("cluster: record served index: %w", err)
	}
	w.written, w.last = index, now
	return nil
}
